"""The scoring service: FastAPI API, micro-batching, feedback and the moderator page (see ``narrascope.serve.app``)."""
