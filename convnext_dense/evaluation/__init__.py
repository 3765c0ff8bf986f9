"""Evaluation metrics beyond mmdet's / mmseg's. Each module registers its metric when imported
(configs name it in ``custom_imports``), since they import mmseg's heavy evaluation package."""
