# The runtime image every tfx-kfp component runs in (KFP Lightweight Python
# components with install_kfp_package=False: the pod runs
# `python3 -m kfp.dsl.executor_main`, so this image must carry kfp, TFX and our
# package, with the venv's python3 first on PATH).
#
#   tfx-kfp image build                      # CPU image, tagged <version>-<source digest>
#   tfx-kfp image build --variant gpu        # GPU variant (VARIANT=gpu)
#   tfx-kfp image build --stack current      # TFX 1.21 / TF 2.21 / KFP 2.17 on Debian 13
#
# Two stacks share this file (docs/image.md, "Two stacks"); what differs is only
# the base image (PYTHON_IMAGE) and the lock (STACK_LOCK: the folder holding its
# pyproject.toml and uv.lock): "." for the 1.16 stack (the defaults below),
# stacks/current for the current one. `tfx-kfp image build --stack` passes both.
#
# or by hand, with the tag and digest the compiled pipeline uses (never :latest):
#   docker build -t "$(tfx-kfp image tag)" \
#     --build-arg SOURCE_DIGEST="$(tfx-kfp image tag --digest-only)" .
#
# Layers are ordered so that a source change rebuilds only the small wheel
# stage and the last runtime layer: dependencies (uv.lock) first, our package
# last.

# The base image (not ours) by digest: the tag moves, the digest does not.
# docs/image.md says where the digest was read.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:528257d48c1da0dcecc2e725d1ae34498d60c965f1241e39cd6a85a8859bdf84
ARG STACK=1.16

# --------------------------------------------------------------------------
# builder: compilers, uv and the locked dependencies. Nothing of this stage but
# /opt/venv reaches the final image.
# --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

# cpu: tensorflow-cpu in place of the lock's CUDA-capable tensorflow wheel.
# gpu: the lock's tensorflow plus the CUDA/cuDNN wheels of its [and-cuda] extra.
ARG VARIANT=cpu
ARG STACK_LOCK=.
ARG UV_VERSION=0.13.9

# A few locked packages ship only as sdists; pyfarmhash (used by
# tensorflow-data-validation) compiles C++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*

RUN python3 -m pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_COMPILE_BYTECODE=0 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src

# 1. Locked third-party dependencies, without tensorflow (chosen per variant
#    below) and without our package. Rebuilt only when the lock changes.
#    libclang (60 MB) is a build-time dependency of tensorflow that nothing
#    imports at run time; test suites and test data of third-party packages
#    are never imported either.
COPY ${STACK_LOCK}/pyproject.toml ${STACK_LOCK}/uv.lock ./
RUN uv sync --frozen --no-dev --all-extras --no-install-project \
      --no-install-package tensorflow --no-install-package libclang \
 && cd "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && rm -rf tfx/components/testdata google/genai/tests IPython/core/tests h5py/tests \
           pandas/tests pyarrow/tests \
 && find numpy scipy sklearn -depth -type d -name tests -exec rm -rf {} +

# 2. TensorFlow for the variant, the version the lock holds. --no-deps: every
#    dependency of tensorflow is already installed at its locked version.
RUN TENSORFLOW_VERSION="$(python3 -c "import tomllib; print(next(p['version'] for p in tomllib.load(open('uv.lock', 'rb'))['package'] if p['name'] == 'tensorflow'))")" \
 && case "${VARIANT}" in \
      cpu) uv pip install --python /opt/venv/bin/python --no-deps "tensorflow-cpu==${TENSORFLOW_VERSION}" ;; \
      gpu) uv pip install --python /opt/venv/bin/python "tensorflow[and-cuda]==${TENSORFLOW_VERSION}" ;; \
      *) echo "VARIANT must be cpu or gpu, got '${VARIANT}'" >&2; exit 1 ;; \
    esac \
 # TensorFlow's C++ headers (~420 MB) serve only to build custom ops.
 && rm -rf "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/tensorflow/include"

# 3. Bytecode for third-party code. Compiling every module would add ~450 MB;
#    instead import what a pipeline step imports, so Python writes .pyc files
#    for exactly those modules (~200 MB). The non-root user cannot write to
#    /opt/venv, so without them every step would recompile TF, TFX and Beam
#    (~8 s a step).
RUN cd / && /opt/venv/bin/python -W ignore -c "\
import importlib; \
mods = ['tensorflow', 'tf_keras', 'keras', 'kfp.dsl', 'kfp.dsl.executor_main', 'kfp.local', 'kfp.kubernetes', \
  'apache_beam', 'apache_beam.runners.direct.direct_runner', \
  'apache_beam.runners.portability.fn_api_runner', 'ml_metadata', 'tfx_bsl', \
  'tensorflow_data_validation', 'tensorflow_transform', 'tensorflow_transform.beam', \
  'tensorflow_model_analysis', 'tfx.v1', 'tfx.components', \
  'tfx.components.example_gen.csv_example_gen.executor', \
  'tfx.components.statistics_gen.executor', 'tfx.components.schema_gen.executor', \
  'tfx.components.example_validator.executor', 'tfx.components.transform.executor', \
  'tfx.components.trainer.executor', 'tfx.components.evaluator.executor', \
  'tfx.components.pusher.executor', 'tensorflow_serving.apis.predict_pb2']; \
[importlib.import_module(m) for m in mods]"

# --------------------------------------------------------------------------
# wheel: our package, built from the source tree. Only this stage and the
# last layers of the runtime stage rebuild when the source changes.
# --------------------------------------------------------------------------
FROM builder AS wheel
# tfx-kfp's own pyproject.toml: the builder's /src holds the stack's lock project.
COPY pyproject.toml README.md setup.py ./
COPY __init__.py kfp_workarounds.py ./
COPY cli ./cli
COPY cluster ./cluster
COPY components ./components
COPY local ./local
COPY pipelines ./pipelines
COPY reports ./reports
COPY runtime ./runtime
COPY serving ./serving
RUN mkdir -p .pkg && ln -s .. .pkg/tfx_kfp && uv build --wheel --out-dir /wheels .

# --------------------------------------------------------------------------
# runtime: the base image, the venv and a non-root user. No compilers, no uv,
# no caches.
# --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VARIANT=cpu
ARG STACK
ARG UID=1000

# The KFP v2 launcher writes artifacts under /gcs, /minio and /s3 as the
# container's user; create them writable so the non-root user can.
RUN useradd --uid "${UID}" --user-group --create-home --home-dir /home/tfx --shell /bin/bash tfx \
 && mkdir -p /gcs /minio /s3 \
 && chmod 1777 /gcs /minio /s3

# s3fs-fuse from Debian (bookworm 1.90, trixie 1.95): mounts a bucket as a folder, the way TFX reaches
# object storage from a remote Beam engine without tensorflow-io (docs/scale.md, "Object storage as a folder").
# apt's package caches (~90 MB) go too: the stand-in base keeps them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends s3fs \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

# The locked dependencies (a large layer, cached while uv.lock is unchanged),
# then our package from its wheel (a small layer). --no-deps: the venv
# already holds every dependency at its locked version.
COPY --from=builder /opt/venv /opt/venv
COPY --from=wheel /wheels /tmp/wheels
# --ignore-requires-python: the wheel's metadata is the 1.16 stack's (Python 3.11); on the
# current stack the venv's Python is 3.13 and its dependencies come from stacks/current.
RUN /opt/venv/bin/python -m pip install --no-deps --ignore-requires-python --no-cache-dir \
      --disable-pip-version-check /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels \
 # Import what every step imports (compiles its bytecode) and prove the image complete.
 && cd / && /opt/venv/bin/python -W ignore -c "\
import importlib, importlib.metadata, pkgutil, tensorflow as tf, tfx_kfp, tfx_kfp.cli, tfx_kfp.pipelines; \
assert importlib.metadata.entry_points(group='console_scripts', name='tfx-kfp'), 'no tfx-kfp command'; \
import tfx_kfp.components as c; \
[importlib.import_module(i.name) for i in pkgutil.walk_packages(c.__path__, c.__name__ + '.')]; \
print('image ok: tfx-kfp', tfx_kfp.__version__, 'tensorflow', tf.__version__, 'stack ${STACK}')"

# The digest of the source this image was built from (tfx_kfp.components.image): the image
# has no source tree to hash, so the tag it answers to is recorded here.
ARG SOURCE_DIGEST=
ENV VIRTUAL_ENV=/opt/venv \
    TFX_KFP_IMAGE_SOURCE_DIGEST=${SOURCE_DIGEST} \
    PATH=/opt/venv/bin:${PATH} \
    HOME=/home/tfx \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=1 \
    TF_USE_LEGACY_KERAS=1 \
    TFX_KFP_IMAGE_VARIANT=${VARIANT} \
    TFX_KFP_IMAGE_STACK=${STACK}

LABEL org.opencontainers.image.title="tfx-kfp" \
      org.opencontainers.image.description="Runtime image for the tfx-kfp Kubeflow Pipelines components (stack ${STACK}: 1.16 = TFX 1.16, KFP 2.13; current = TFX 1.21, KFP 2.17)" \
      org.opencontainers.image.licenses="Apache-2.0"

# Numeric user so Kubernetes can check runAsNonRoot.
USER ${UID}:${UID}
WORKDIR /home/tfx

CMD ["tfx-kfp", "--help"]
