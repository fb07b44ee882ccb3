"""The model boundary and the servers: what nodes ask of a model tier, on any server.

`client` (a choice, a streamed plan or answer, a prompt read ahead), `chat_models` (which
model answers a tier, on which pooled client; `use_models` swaps them), `compat` and
`constraints` (what differs between servers), `admission` (fair shares of a llama.cpp
server's slots), `deadlines`; the embedded llama.cpp and vLLM CPU servers and the model
weights; `stack` (the production stack without Docker). May import: `core`.
"""
