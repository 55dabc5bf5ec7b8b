"""tipscan's trained models, installed with it as ``tipscan_models`` (see README.md here)."""
