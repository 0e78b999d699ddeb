"""Getting sealed recordings from a patient's home to the clinic, durably and securely.

``identity`` holds the device keys and the pinned server key; ``outbox`` is the
durable queue; ``uploader`` drains it over HTTPS; ``pairing`` registers a new
device; ``cli`` adds the ``pair``, ``status``, ``send`` and ``upload`` commands.
"""
