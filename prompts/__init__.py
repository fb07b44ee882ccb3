"""What the models are asked: the prompt texts (`templates`), their rendering (`render`).

`conversation` reads the question and the recent turns out of a thread's messages.
May import: `core`, `serving` (message content every server takes) and
`engine.language` (tools' signatures, services in solved plans).
"""
