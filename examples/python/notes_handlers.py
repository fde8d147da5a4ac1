"""Handlers for examples/notesService.ts: notes kept per session (``ctx.state``) in the worker."""
from xotp_bridge import handler


@handler
def add_note(args, ctx):
    notes = ctx.state.setdefault("notes", [])
    notes.append(args["text"])
    return {"count": len(notes)}


@handler
def notes(args, ctx):
    return {"notes": list(ctx.state.get("notes", []))}


@handler
def word_count(args):
    return {"words": len(args["text"].split())}
