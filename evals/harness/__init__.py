"""The eval harness: run one graph on one question, record where its time went, grade, report.

Owns: the dataset's questions and checks (`dataset`), one measured run (`runner`, with
`recorder`), every graph over every question (`sweep`), the critical-path bound and the
token count (`critical_path`), the one percentile (`stats`), a model server's metrics
(`metrics`), the report and its tables (`report`, `tables`), the LangSmith experiment
(`experiment`) and `langgraph dev` on a free port (`dev_server`). May import: every
package outside `evals`; nothing of `evals`.
"""
