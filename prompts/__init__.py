"""What the models are asked: the prompt texts (`templates`) and their rendering (`render`).

May import: `core` and `engine.language` (tools' signatures, services in solved plans).
"""
