"""Choosing what to annotate next: sentences of a feed the model is unsure of, as annotation tasks.

The top of the stack beside ``serve`` and ``batch``: it reads feeds with the batch readers, scores and
embeds sentences with the model layer, and writes tasks in the dataset layer's interchange formats, so the
tasks fit ``narrascope data labelstudio-config`` and come back through ``narrascope data import``.
"""
