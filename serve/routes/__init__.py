"""One router per resource; ``serve.app`` only includes them."""
