"""The InfraValidator's Markdown report: decision, loader result, requests per signature and protocol."""

from typing import List

from tfx_kfp.reports._markdown import md_escape, md_table


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _short(message: str, limit: int = 120) -> str:
    """A failure's first line, cut to ``limit`` characters (the full text is in the decision above)."""
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def render_infra_markdown(validation, reasons: List[str], warmup_records: int) -> str:
    """Renders a ``components.infra_validator.executor.Validation`` and its decision as Markdown."""
    lines = ["# Infra validation", ""]
    lines += ["**Infra-blessed.**" if not reasons else "**Not infra-blessed.**", ""]
    lines += [f"- {md_escape(reason)}" for reason in reasons]
    lines += ["", "## Loader", ""]
    loader = ("failed: " + md_escape(validation.loader_error)) if validation.loader_error else "loaded"
    lines += [md_table(["Check", "Result"], [
        ["SavedModel", md_escape(validation.model_dir)],
        ["TF1 SavedModelBundle loader, tags serve", loader],
        ["Loader check, with reading the examples (s)", f"{validation.loader_seconds:.1f}"],
    ]), ""]
    if validation.server_events or validation.server_error:
        lines += ["## Model server", ""]
        lines += [f"- {md_escape(event)}" for event in validation.server_events]
        if validation.server_error:
            lines += [f"- failed: {md_escape(validation.server_error)}"]
        lines += [""]
    lines += ["## Requests", "", f"Built from {validation.examples_read} examples of the eval split.", ""]
    unbuilt = [[md_escape(p.signature), p.api, "—", "0", md_escape(p.error), "—", "—"]
               for p in validation.plans if p.error]
    rows = [[md_escape(o.signature), o.api, o.protocol, str(len(o.latencies_ms) + len(o.failures)),
             md_escape(f"{len(o.failures)}: {_short(o.failures[0])}") if o.failures else "0",
             _ms(o.p50_ms), _ms(max(o.latencies_ms) if o.latencies_ms else None)]
            for o in validation.outcomes]
    if rows or unbuilt:
        lines += [md_table(["Signature", "API", "Protocol", "Requests", "Failures", "p50 (ms)", "max (ms)"],
                           unbuilt + rows), ""]
        lines += [f"Latency budget: median of each signature, API and protocol at most "
                  f"{validation.max_latency_ms:g} ms.", ""]
    else:
        lines += ["No requests were sent.", ""]
    if warmup_records:
        lines += [f"Warmup: {warmup_records} validated requests written as `tf_serving_warmup_requests` "
                  "(PredictionLog TFRecord).", ""]
    lines += [f"Total time: {validation.seconds:.1f} s.", ""]
    return "\n".join(lines)
