#!/usr/bin/env bash
# Make sure this x86-64 host runs arm64 programs under QEMU, for building and
# running linux/arm64 images (and debootstrap's second stage): as root on
# Debian, installs qemu-user-static and binfmt-support and registers them with
# the kernel's binfmt_misc. The F flag (Debian's default) opens the emulator at
# registration, so that it also runs inside containers.
set -euo pipefail

handler=/proc/sys/fs/binfmt_misc/qemu-aarch64
[ -f "$handler" ] && grep -qx enabled "$handler" && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure-qemu.sh: arm64 emulation is not registered, and this is not root on Debian" >&2
    exit 1
fi
# One apt-get at a time with scripts/ensure-docker.sh, which a test suite's
# other worker may run now.
exec 9>>/tmp/flask-docker-apt.lock
flock 9
if ! command -v qemu-aarch64-static >/dev/null || ! command -v update-binfmts >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        qemu-user-static binfmt-support >/dev/null
fi
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
grep -qx enabled "$handler" 2>/dev/null || {
    echo "ensure-qemu.sh: could not register qemu-aarch64 with binfmt_misc" >&2
    exit 1
}
