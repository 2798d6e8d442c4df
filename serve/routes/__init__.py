"""One router per resource; ``narrascope.serve.app`` only includes them."""
