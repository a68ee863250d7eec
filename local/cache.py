"""Task caching with the backend's semantics: same fingerprint, reuse the earlier outputs.

An entry records where a successful execution's outputs are and the metadata the
backend stored for them; its artifact ids stay the same, so the tasks downstream
of a hit hit as well. An entry whose outputs were deleted is a miss.
"""

import hashlib
import json
import os
import tempfile
from typing import Any, Dict, Mapping, Optional

CACHE_FOLDER = ".tfx-kfp-cache"


class TaskCache:
    def __init__(self, pipeline_root: str, enabled: bool = True):
        self.folder = os.path.join(pipeline_root, CACHE_FOLDER)
        self.enabled = enabled

    @staticmethod
    def key(fingerprint: str, env: Mapping[str, str]) -> str:
        """The backend's fingerprint, and the container's environment variables when it has any.

        The backend's key (cacheutils/cache.go at 2.17: image, command and args, PVC names) leaves out
        the container's ``env``, though ``TF_USE_LEGACY_KERAS`` changes which Keras trains the model:
        locally, where a caller's explicit value overrides the spec's, it is part of the key.
        """
        if not env:
            return fingerprint
        text = json.dumps({"fingerprint": fingerprint, "env": dict(env)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, fingerprint: str) -> str:
        return os.path.join(self.folder, f"{fingerprint}.json")

    def lookup(self, fingerprint: str) -> Optional[Dict[str, Any]]:
        if not self.enabled:
            return None
        try:
            with open(self._path(fingerprint)) as f:
                entry = json.load(f)
        except (OSError, ValueError):
            return None
        if not well_formed(entry):
            return None  # written by something else, or damaged: run the task again
        if not all(os.path.exists(uri) for uri in entry["written_uris"]):
            return None  # an earlier run's outputs were deleted
        return entry

    def store(self, fingerprint: str, entry: Dict[str, Any]) -> None:
        # Only the outputs the task wrote files for are checked on lookup (a Metrics artifact has none).
        entry = dict(entry, written_uris=[a["uri"] for a in entry.get("artifacts", {}).values()
                                          if os.path.exists(a["uri"])])
        os.makedirs(self.folder, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.folder, suffix=".partial", delete=False) as f:
            json.dump(entry, f)
        os.replace(f.name, self._path(fingerprint))


_ENTRY_FIELDS = {"seconds": (int, float), "parameters": dict, "written_metadata": dict, "artifacts": dict,
                 "written_uris": list}
_ARTIFACT_FIELDS = {"id": str, "uri": str, "schema_title": str, "metadata": dict}


def well_formed(entry: Any) -> bool:
    """Whether ``entry`` has the shape ``store`` writes (valid JSON of another shape, e.g. ``null``, is a miss)."""
    if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in _ENTRY_FIELDS.items()):
        return False
    artifacts = entry["artifacts"].values()
    return (all(isinstance(a, dict) and set(a) == set(_ARTIFACT_FIELDS)
                and all(isinstance(a[k], t) for k, t in _ARTIFACT_FIELDS.items()) for a in artifacts)
            and all(isinstance(uri, str) for uri in entry["written_uris"]))
