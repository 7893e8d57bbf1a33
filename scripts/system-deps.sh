#!/bin/sh
# Debian packages knowrepo drives for real, installed with apt when missing.
#   site: pango, HarfBuzz's subsetter (else WeasyPrint warns per font per PDF and subsets
#         with the slower fontTools) and fonts for its PDFs (Inter for text, DejaVu Sans Mono for code,
#         Droid Sans Fallback for CJK);
#   test: also chromium (driven by Playwright; its own browser download is never used),
#         poppler-utils (pdftotext, pdfinfo) and libatomic1, which Playwright's node driver needs.
set -e
want="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-inter fonts-dejavu-core fonts-droid-fallback"
[ "${1:-site}" = test ] && want="$want chromium poppler-utils libatomic1"
missing=""
for package in $want; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing Debian packages:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null
