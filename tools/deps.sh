#!/usr/bin/env bash
# Sets up a fresh Debian machine for building, running and testing the OS:
# the Debian packages behind the host tools (QEMU, xorriso for `make iso`,
# mtools/dosfstools for FAT disk images, Python 3 for tools/bench.py and
# tools/shelltest.py) and Rust's x86_64-unknown-none target. Idempotent and
# quiet when everything is there: apt-get runs only if a tool is missing,
# with sudo when not root.
# usage: deps.sh [--rust-only]    (--rust-only: skip the Debian packages)
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> the Debian package that provides it
declare -A packages=(
    [make]=make
    [tar]=tar
    [cc]=gcc
    [qemu-system-x86_64]=qemu-system-x86
    [xorriso]=xorriso
    [mcopy]=mtools
    [mkfs.fat]=dosfstools
    [python3]=python3
)

missing=()
[ "${1:-}" = --rust-only ] && packages=()
for cmd in "${!packages[@]}"; do
    # mkfs.fat lives in /usr/sbin, which a normal user's PATH may lack.
    if ! command -v "$cmd" >/dev/null && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/sbin/$cmd" ]; then
        missing+=("${packages[$cmd]}")
    fi
done
# Linking host programs (build scripts, tests) needs the C library's files,
# which gcc only recommends.
if [ ${#packages[@]} -gt 0 ] && [ ! -e /usr/lib/x86_64-linux-gnu/Scrt1.o ]; then
    missing+=(libc6-dev)
fi

if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "deps: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# rust-toolchain.toml pins the toolchain and lists the target, so rustup
# usually installs both by itself; this covers a toolchain installed without it.
if ! command -v cargo >/dev/null; then
    echo "deps: cargo not found; install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-unknown-none; then
    echo "deps: adding the x86_64-unknown-none target"
    rustup target add x86_64-unknown-none
fi
