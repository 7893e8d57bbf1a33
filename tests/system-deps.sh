#!/bin/sh
# Debian packages the tests drive for real: chromium (through Playwright) and poppler-utils;
# libatomic1 is what Playwright's bundled node driver links against.
# Installed with apt when missing; Playwright's own browser download is never used.
set -e
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$missing fonts-dejavu-core"
ldconfig -p 2>/dev/null | grep -q libatomic.so.1 || missing="$missing libatomic1"
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing Debian packages:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null
