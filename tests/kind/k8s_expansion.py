"""Kubernetes' ``$(VAR)`` expansion of a container's command and args, as the kubelet applies it.

Follows k8s.io/kubernetes ``third_party/forked/golang/expansion/expand.go`` (commit
fde22c3f9aacfd260225a9741de123a41157b7c0): ``$$`` becomes ``$``; ``$(NAME)`` becomes the variable's
value, or stays as written when the container has no such variable; an unclosed ``$(`` and a ``$``
before any other character are kept. Test code only: the backend's behaviour, to test our escaping.
"""

from typing import Mapping


def expand(text: str, variables: Mapping[str, str]) -> str:
    out, checkpoint, cursor = [], 0, 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_variable_name(text[cursor + 1:])
            out.append((variables[read] if read in variables else f"$({read})") if is_var else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _read_variable_name(rest: str):
    if rest[0] == "$":
        return "$", False, 1
    if rest[0] == "(":
        closer = rest.find(")", 1)
        if closer != -1:
            return rest[1:closer], True, closer + 1
        return "$(", False, 1
    return "$" + rest[0], False, 1
