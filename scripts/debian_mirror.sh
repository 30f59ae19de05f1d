#!/bin/sh
# The Debian mirror this machine's apt already uses for bookworm (deb822 debian.sources or a one-line sources.list),
# for make setup's bookworm-backports source and make test-oldest's Debian 12 root.
uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 | cut -d' ' -f1)
[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$uri" ] || { echo "no Debian bookworm source in /etc/apt: add one first" >&2; exit 1; }
echo "$uri"
