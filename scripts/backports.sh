#!/bin/sh
# Debian 12's bookworm-backports (QGIS 3.40 LTR, built for Debian 12), on the mirror apt already uses: what a Debian 12
# user who wants the current QGIS LTR does. Nothing is changed where the suite is already configured.
set -e
grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ && exit 0
uri=$(sh "$(dirname "$0")/debian_mirror.sh")
printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$uri" \
    /usr/share/keyrings/debian-archive-keyring.gpg > /etc/apt/sources.list.d/bookworm-backports.sources
