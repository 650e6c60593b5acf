#!/bin/sh
# Set everything up on a fresh Debian 12 machine, build with -Werror and run
# every test. With --sanitize, the same in build-asan/ under ASan+UBSan.
# This is README command (b); .ci/run calls it.
set -eu
cd "$(dirname "$0")/.."

./cmake/setup-debian.sh

builddir=build
extra=""
if [ "${1:-}" = "--sanitize" ]; then
	builddir=build-asan
	extra="-DIBSP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
fi
# shellcheck disable=SC2086
cmake -S . -B "$builddir" -DIBSP_WERROR=ON $extra
cmake --build "$builddir" -j"$(nproc)"
ctest --test-dir "$builddir" --output-on-failure
