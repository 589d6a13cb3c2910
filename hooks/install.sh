#!/bin/sh
# Install dibs's pre-commit hook into the git repository of the current directory.
#
#   sh path/to/dibs/hooks/install.sh [--force]
#
# An existing pre-commit hook is kept unless --force is given (the pre-commit
# framework users add `dibs-check` to .pre-commit-config.yaml instead).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
hooks_dir=$(git rev-parse --git-path hooks)
target="$hooks_dir/pre-commit"
mkdir -p "$hooks_dir"
if [ -e "$target" ] && [ "${1:-}" != "--force" ]; then
    if cmp -s "$here/pre-commit" "$target"; then
        echo "dibs pre-commit hook already installed at $target"
        exit 0
    fi
    echo "a pre-commit hook already exists at $target; rerun with --force to replace it" >&2
    exit 1
fi
cp "$here/pre-commit" "$target"
chmod +x "$target"
echo "installed dibs pre-commit hook at $target"
