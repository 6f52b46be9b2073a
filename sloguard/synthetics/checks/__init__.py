"""The synthetic checks, one module per kind; each is an async function of (context, spec, ...)."""
