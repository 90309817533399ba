#!/usr/bin/env bash
# Installs memgate for the action: a release binary where scripts/checksums.txt has the
# SHA-256 of the wanted version's binary for this machine, checked before it is unpacked;
# else `cargo install --locked` from the action's own source.
#
#   install.sh plan   writes cache-key= and cargo-home= to $GITHUB_OUTPUT when a build
#                     from source is coming in a gate job (the action restores the cargo
#                     cache only then), nothing otherwise
#   install.sh        installs, and writes the binary's path and SHA-256 (bin=, sha256=)
#
# A download that fails falls back to the source build when the action's source is the
# wanted version; a download whose sum differs stops the job: it is never run.
set -euo pipefail

action_dir="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
source_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)
wanted="${MEMGATE_VERSION:-$source_version}"
releases="${MEMGATE_RELEASES_URL:-https://github.com/memgate/memgate/releases/download}"
checksums="${MEMGATE_CHECKSUMS:-$action_dir/scripts/checksums.txt}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) target=x86_64-unknown-linux-musl ;;
  Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-musl ;;
  *) target="$(uname -m)-$(uname -s)" ;;
esac
sum=$(awk -v v="$wanted" -v t="$target" '$1 == v && $2 == t { print $3; exit }' "$checksums")
if [ -n "$sum" ] && ! [[ "$sum" =~ ^[0-9a-f]{64}$ ]]; then
  echo "::error title=memgate::$checksums: the line for $wanted $target has no SHA-256 (64 hex digits): '$sum'"
  exit 1
fi

output() { echo "$1" >> "${GITHUB_OUTPUT:-/dev/null}"; }

# The binary's path and SHA-256, for the step that posts the comment to check before it
# runs it: the benchmarks run in between, as the same user.
record() {
  output "bin=$1"
  output "sha256=$(sha256sum "$1" | cut -d' ' -f1)"
}

installed_matches() {
  command -v memgate >/dev/null 2>&1 && [ "$(memgate --version)" = "memgate $wanted" ]
}

# A comment job (MEMGATE_FRESH names the report it will post) trusts no memgate already on
# the machine: a self-hosted runner keeps what earlier jobs, benchmarks included, left.
# It installs into this job's own folder ($RUNNER_TEMP is emptied when a job starts).
fresh="${MEMGATE_FRESH:-}"

# A comment job caches nothing (see action.yml), nor does a binary install.
if [ "${1:-}" = plan ]; then
  if [ -z "$sum" ] && [ -z "$fresh" ] && ! installed_matches; then
    # The cache key: every file the binary is built from (the package's include list in
    # Cargo.toml), which hashFiles() cannot read (it sees only the workspace), and the
    # runner's image, whose C library the binary links against.
    key=$(cd "$action_dir" && find Cargo.toml Cargo.lock src config examples/github -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-32)
    image="${ImageOS:-$(uname -s)}-${ImageVersion:-unknown}"
    output "cache-key=memgate-$image-$(uname -m)-$source_version-$key"
    # Where the source build installs and cargo keeps its downloads.
    output "cargo-home=${CARGO_HOME:-$HOME/.cargo}"
  fi
  exit 0
fi

if [ -z "$fresh" ] && installed_matches; then
  echo "memgate $wanted is installed: $(command -v memgate)"
  record "$(command -v memgate)"
  exit 0
fi

root="${RUNNER_TEMP:?RUNNER_TEMP is not set}/memgate-$wanted"
bin="$root/bin/memgate"
if [ -n "$fresh" ] && [ -x "$bin" ]; then
  echo "memgate $wanted in $root/bin, installed earlier in this job, for this job alone"
  record "$bin"
  exit 0
fi
mkdir -p "$root/bin"

# The release binary: downloaded, its sum compared, then unpacked (only the one file).
# Returns 1 when the download fails; exits when the sum differs.
from_release() {
  local url="$releases/v$wanted/memgate-$target.tar.gz" dir
  dir=$(mktemp -d)
  if ! curl --fail --silent --show-error --location --proto-redir =https --retry 3 \
    --max-time 300 --output "$dir/memgate.tar.gz" "$url"; then
    rm -rf "$dir"
    return 1
  fi
  if ! echo "$sum  $dir/memgate.tar.gz" | sha256sum --check --quiet --strict 2>/dev/null; then
    echo "::error title=memgate::$url does not have the SHA-256 that $checksums records for memgate $wanted on $target: not installed, not run"
    rm -rf "$dir"
    exit 1
  fi
  tar -xzf "$dir/memgate.tar.gz" -C "$dir" memgate
  install -m 0755 "$dir/memgate" "$bin"
  rm -rf "$dir"
}

if [ -n "$sum" ]; then
  if from_release; then
    echo "memgate $wanted for $target installed from its release, SHA-256 verified: $bin${fresh:+, for this job alone}"
    [ -n "$fresh" ] || echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
    record "$bin"
    exit 0
  fi
  echo "::warning title=memgate::could not download memgate $wanted for $target from $releases: building it from source"
fi

if [ "$wanted" != "$source_version" ]; then
  echo "::error title=memgate::no release binary of memgate $wanted for $target, and this action's source is $source_version: use the action at v$wanted"
  exit 1
fi
# A gate job builds into cargo's own bin, which the action caches; a comment job into
# its own folder.
[ -n "$fresh" ] || root="${CARGO_HOME:-$HOME/.cargo}"
# --force: a binary restored from the cache is not in cargo's records of what it installed.
cargo install --locked --force --quiet --path "$action_dir" --root "$root"
echo "memgate $source_version built from source: $root/bin/memgate${fresh:+, for this job alone}"
[ -n "$fresh" ] || echo "$root/bin" >> "${GITHUB_PATH:-/dev/null}"
record "$root/bin/memgate"
