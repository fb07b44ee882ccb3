"""Helpers the tests share: scripted models and a second domain."""
