"""Shared helpers the stage entry modules import (entry modules never import each other)."""
