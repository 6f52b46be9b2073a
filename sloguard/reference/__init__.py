"""The reference ATOM platform.

A real FastAPI application that behaves like the ATOM backend, with fault injection. It shares no
code with the suite's engine: the suite knows it only over HTTP and through its OpenAPI description.
Nothing outside ``sloguard.reference`` may import from it except the CLI that serves it.
"""
