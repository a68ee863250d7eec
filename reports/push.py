"""Markdown report of a Pusher stage: where the model went and its signatures."""

from typing import Dict, List, Optional

from tfx_kfp.reports._markdown import md_escape, md_table


def _shape_text(shape: object) -> str:
    if shape is None:
        return "unknown"
    dims = list(shape)  # type: ignore[call-overload]
    if not dims:
        return "scalar"
    # Sizes may arrive as floats (KFP metadata round-trips numbers through protobuf Struct).
    return "[" + ", ".join("any" if d is None or d == -1 else str(int(d)) for d in dims) + "]"


def _signature_rows(signature: Dict[str, Dict[str, Dict]]) -> List[List[str]]:
    rows = []
    for direction, title in (("inputs", "input"), ("outputs", "output")):
        for name, spec in (signature.get(direction) or {}).items():
            spec = spec or {}
            rows.append([title, md_escape(name), md_escape(spec.get("dtype", "?")), _shape_text(spec.get("shape"))])
    return rows


def render_push_markdown(
    *,
    pushed: bool,
    pushed_path: Optional[str],
    version: Optional[int],
    signatures: Dict[str, Dict[str, Dict[str, Dict]]],
    reason: str = "",
) -> str:
    """Renders the result of a push as Markdown.

    Args:
      pushed: whether the model was pushed.
      pushed_path: where the model was written (``None`` when not pushed).
      version: the pushed model version (the serving directory name).
      signatures: serving signatures, name → {"inputs"|"outputs": tensor name →
        {"dtype": str, "shape": [int, ...]}}; ``-1`` in a shape means any size.
      reason: why the model was (not) pushed, e.g. "model not blessed".

    Returns:
      Markdown with the decision in words, the destination and one table per
      signature.
    """
    lines = ["# Push", ""]
    lines += ["**Pushed.**" if pushed else "**Not pushed.**", ""]
    if reason:
        lines += [f"Reason: {md_escape(reason)}", ""]
    details = [
        ["Pushed path", md_escape(pushed_path) if pushed_path else "—"],
        ["Version", md_escape(version) if version is not None else "—"],
    ]
    lines += [md_table(["Field", "Value"], details), ""]
    lines += ["## Serving signatures", ""]
    if not signatures:
        lines += ["No serving signatures recorded.", ""]
    for name, signature in signatures.items():
        lines += [f"### {md_escape(name)}", ""]
        rows = _signature_rows(signature or {})
        if rows:
            lines += [md_table(["Direction", "Tensor", "Type", "Shape"], rows), ""]
        else:
            lines += ["No inputs or outputs recorded.", ""]
    lines += ["Shapes: \"any\" marks a dimension of any size (the batch, usually).", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
