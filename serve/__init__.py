"""The scoring service: FastAPI API, micro-batching, feedback store and the moderator page (see ``serve.app``)."""
