"""Fine-tuning: shared trainer helpers (base) and registered methods (sft, grpo)."""
