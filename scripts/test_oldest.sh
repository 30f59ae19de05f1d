#!/bin/bash
# make test-oldest: the test suite on QGIS 3.22, the oldest QGIS the plugin supports (Debian 12's own package), in a
# Debian 12 root made once by debootstrap in ROOT (deps/qgis-3.22: about 2.6 GB, 3 minutes) and entered with chroot. The
# checkout, its .venv (the same Python 3.11 as the root's: PyTorch, ONNX Runtime, pytest...) and ../shared are
# mounted at their own paths inside, in a mount namespace of this command alone, so nothing stays mounted after it.
#     bash scripts/test_oldest.sh ROOT DEBIAN_PACKAGES...  [PYTEST_ARGS=... to pass pytest arguments]
set -euo pipefail
root=$(realpath -m "$1"); shift
repo=$(pwd)
if [ ! -f "$root/.complete" ]; then
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
    rm -rf "$root"
    packages=$(echo "$@" make git ca-certificates | tr ' ' ,)
    debootstrap --variant=minbase --include="$packages" bookworm "$root" "$(sh scripts/debian_mirror.sh)"
    rm -f "$root"/var/cache/apt/archives/*.deb  # the packages are installed: their archives are not needed
    touch "$root/.complete"
fi
echo "QGIS in $root: $(chroot "$root" dpkg-query -W -f '${Version}' qgis)"
# what the tests read or reach from the host: the checkout, the data beside it, name resolution, the trusted
# certificates and pip's settings (the installer test pip-installs a small package)
binds=("$repo" /proc /dev /tmp /etc/resolv.conf /etc/ssl/certs)
for path in "$repo/../shared" /etc/pip.conf /etc/xdg/pip /opt/wheels /opt/pypi /opt/pypi-more; do
    [ -e "$path" ] && binds+=("$(realpath "$path")")
done
script='set -e
for path in "$@"; do
    if [ -d "$path" ]; then mkdir -p "$ROOT$path"; else mkdir -p "$(dirname "$ROOT$path")"; touch "$ROOT$path"; fi
    mount --rbind "$path" "$ROOT$path"
done
exec chroot "$ROOT" /bin/bash -c "cd \"$REPO\" && exec .venv/bin/python -m pytest $PYTEST_ARGS"'
ROOT=$root REPO=$repo PYTEST_ARGS="${PYTEST_ARGS:--q}" unshare --mount --propagation private bash -c "$script" bash "${binds[@]}"
