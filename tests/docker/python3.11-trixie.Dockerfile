# A Debian 13 base whose `python3` is CPython 3.11: the current stack's Python 3.11 variant
# (issue 21, item 5), built FROM the Debian 13 base the current stack uses.
#
# Debian 13 packages only Python 3.13. Debian 12's python3.11 (with its security updates, from
# bookworm-security) installs on Debian 13 with apt: every library it needs is a Debian 13
# package (the 64-bit time_t "t64" libraries provide the old names on amd64), so apt replaces
# nothing of Debian 13 and pins keep bookworm for python3.11 alone. tests/docker/test_current_stack.py
# checks that every shared object of the interpreter and lib-dynload resolves and that ssl,
# sqlite3, decimal, ctypes, lzma, bz2, ... import and work.
#
# Like the official python images (and ../shared/tools/docker-up.sh's stand-ins), `python3`
# and `python` on PATH are the image's Python, with pip and the headers that sdists need, so the
# project's Dockerfile builds FROM it unchanged (--build-arg PYTHON_IMAGE=tfx-kfp-base:python3.11-trixie).
# The test builds it (tag tfx-kfp-base:python3.11-trixie, context tests/docker) with PIP_WHEEL_URL
# and PIP_SHA256 read from stacks/current/uv.lock.
ARG DEBIAN13_IMAGE=python:3.13-slim-trixie
FROM ${DEBIAN13_IMAGE}

# pip for Python 3.11 (Debian ships pip for its default Python only): the wheel stacks/current/uv.lock
# locks, checked against the lock's sha256 (the test passes both from the lock).
ARG PIP_WHEEL_URL
ARG PIP_SHA256

RUN printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
      > /etc/apt/sources.list.d/bookworm.list \
 && printf 'Package: *\nPin: release n=bookworm\nPin-Priority: 100\n\nPackage: *\nPin: release n=bookworm-security\nPin-Priority: 100\n' \
      > /etc/apt/preferences.d/bookworm-low \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-dev \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -sf /usr/bin/python3.11 /usr/local/bin/python3 \
 && ln -sf /usr/bin/python3.11 /usr/local/bin/python \
 && wheel="/tmp/${PIP_WHEEL_URL##*/}" \
 && python3.13 -c "import sys, urllib.request; urllib.request.urlretrieve(*sys.argv[1:])" "${PIP_WHEEL_URL}" "${wheel}" \
 && echo "${PIP_SHA256}  ${wheel}" | sha256sum -c - \
 && python3.11 "${wheel}/pip" install --no-cache-dir --no-index --ignore-installed "${wheel}" \
 && rm "${wheel}" \
 && python3 -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version"

CMD ["python3"]
