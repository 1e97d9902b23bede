"""Render engines: each turns a validated `RenderInput` into one output file (see `base.Engine`)."""
