#!/usr/bin/env bash
# Install firebase-tools@15 (for the Firebase Auth emulator used by the test suite) into a cache
# directory outside the repository, once. Prints the path of the `firebase` binary on stdout;
# everything else goes to stderr. Safe to run repeatedly and from parallel test workers.
#
#   LINLI_TOOLS_CACHE   cache root (default: $HOME/.cache/linli)
set -euo pipefail

cache_root="${LINLI_TOOLS_CACHE:-${HOME:?HOME is not set}/.cache/linli}"
prefix="$cache_root/firebase-tools"
bin="$prefix/node_modules/.bin/firebase"

if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-firebase-tools: npm was not found on PATH; install Node.js 20+ (with npm)" \
        "to run the Firebase Auth emulator tests." >&2
    exit 127
fi
if ! command -v node >/dev/null 2>&1; then
    echo "ensure-firebase-tools: node was not found on PATH; install Node.js 20+." >&2
    exit 127
fi

mkdir -p "$prefix"
cd "$prefix"

install_tools() {
    # Another process may have finished the install while we waited for the lock.
    if [[ -x "$bin" ]]; then
        return 0
    fi
    echo "ensure-firebase-tools: installing firebase-tools@15 into $prefix (one-off, ~300 MB)" >&2
    if [[ ! -f package.json ]]; then
        npm init -y >/dev/null
    fi
    npm install --no-audit --no-fund firebase-tools@15 >&2
}

if command -v flock >/dev/null 2>&1; then
    exec 9>"$prefix/.install.lock"
    flock 9
    install_tools
    flock -u 9
else
    install_tools
fi

if [[ ! -x "$bin" ]]; then
    echo "ensure-firebase-tools: npm finished but $bin is missing" >&2
    exit 1
fi
echo "$bin"
