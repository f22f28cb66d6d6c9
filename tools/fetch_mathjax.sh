#!/usr/bin/env bash
# Put MathJax 3 (pinned, checksum-checked, from npm) under _static/mathjax/ so the book's
# equations render with no request to a CDN. conf.py runs this when the folder is missing.
#
#   tools/fetch_mathjax.sh [destination]      # default: <repo>/_static/mathjax
set -euo pipefail
version=3.2.2
tarball_sha256=1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
repo=$(cd "$(dirname "$0")/.." && pwd)
destination=${1:-$repo/_static/mathjax}

if [ "$(cat "$destination/VERSION" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_mathjax: npm is needed (apt-get install npm)." >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mathjax@$version" >/dev/null)
echo "$tarball_sha256  $work/mathjax-$version.tgz" | sha256sum --check --quiet -
tar xzf "$work/mathjax-$version.tgz" -C "$work"
# The TeX-to-HTML bundle, its fonts, the TeX extensions it loads on demand, and the menu's parts.
staged="$work/staged"
mkdir -p "$staged/output/chtml/fonts" "$staged/input/tex"
cp "$work/package/es5/tex-chtml.js" "$work/package/LICENSE" "$staged/"
cp -r "$work/package/es5/output/chtml/fonts/woff-v2" "$staged/output/chtml/fonts/"
cp -r "$work/package/es5/input/tex/extensions" "$staged/input/tex/"
cp -r "$work/package/es5/ui" "$work/package/es5/a11y" "$staged/"
echo "$version" > "$staged/VERSION"
rm -rf "$destination"
mkdir -p "$(dirname "$destination")"
mv "$staged" "$destination"
echo "fetch_mathjax: MathJax $version in $destination"
