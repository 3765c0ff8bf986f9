# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# torch and torchvision are installed first and pinned, so that resolving mmdet / mmseg / timm
# never pulls a different (multi-gigabyte) torch build.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: venv demo test test-all bench bench-models bench-ops bench-compiled \
	bench-compiled-backbones bench-compiled-models clean

venv: $(STAMP)

# DINOv3's ConvNeXt in transformers needs transformers >= 4.56, while the test dependencies pin
# < 4.50 (mmpretrain 1.2.0): the tests run the newer one in a subprocess, from its own folder put
# first on PYTHONPATH (tests/checkpoint/test_dinov3_layouts.py).
DINOV3_TRANSFORMERS := $(VENV)/transformers-dinov3
DINOV3_TRANSFORMERS_PINS := transformers==4.57.6 'tokenizers>=0.22,<0.23'

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e '.[test]' $(TORCH_PINS)
	rm -rf $(DINOV3_TRANSFORMERS)
	$(PY) -m pip install --quiet --no-deps --target $(DINOV3_TRANSFORMERS) $(DINOV3_TRANSFORMERS_PINS)
	touch $(STAMP)

demo: $(STAMP)
	PYTHONWARNINGS="ignore:pkg_resources is deprecated" $(VENV)/bin/convnext-dense demo

# The slowest tests are listed at the end of each run; PYTEST_ARGS adds options (say, -x).
PYTEST_ARGS ?=

test: $(STAMP)
	$(PY) -m pytest -q --durations=25 $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q -m '' --durations=25 $(PYTEST_ARGS)

# The default backbone comparison (ConvNeXt-T at 224, 2 threads, NHWC for every implementation):
# fp32 inference (batch 8), fp32 training steps (batch 4) without and with the paper's stochastic
# depth (0.4 for T), bf16-autocast inference (batch 8) and training steps with drop path.
BENCH_DIR := work_dirs/bench
BENCH_ARGS := --arch tiny --img-size 224 --threads 2 --channels-last \
	--impls ours,timm,torchvision,mmpretrain
# ConvNeXt V2-T against the V2 peers (torchvision has no V2); compare its ours row with
# infer_fp32.json's for the cost of GRN.
BENCH_V2_ARGS := --arch tiny --v2 --img-size 224 --threads 2 --channels-last \
	--impls ours,timm,mmpretrain

# The exported paper models (tools/export.py's graphs, initial weights) in ONNX Runtime beside
# the same graphs in PyTorch eager: one image, 2 threads; detectors at 800, UperNet at 512.
ORT_BENCH_ARGS := --onnxruntime --batch-size 1 --threads 2

# Whole models: our paper configs against mmdet's / mmseg's own ConvNeXt-T configs (mmpretrain's
# backbone, the same recipe's drop path), synthetic batches, 2 threads: training steps at batch 2
# and 512, inference of one image at 800 (detectors) or 512 (UperNet).
MODEL_BENCH := $(PY) tools/benchmark.py --threads 2
MASK_RCNN_T := configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py \
	mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py
CASCADE_T := configs/cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py \
	mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py
UPERNET_T := configs/upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py \
	mmseg::convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py

# The ops we serve ourselves against their stock peers (2 threads): soft-NMS at 2000 boxes
# (spread, and clustered as a detector's are) beside torchvision's NMS; RoI extraction
# (forward + backward, 1024 RoIs on 2 x 256-channel FPN maps of an 800 x 800 batch) in fp32 and
# bf16 autocast beside mmdet's loop, with each one's error against float64.
OP_BENCH := $(PY) tools/benchmark.py --threads 2

bench-ops: $(STAMP)
	$(OP_BENCH) --op soft_nms --count 2000 --box-layout uniform --json $(BENCH_DIR)/op_soft-nms_uniform.json
	$(OP_BENCH) --op soft_nms --count 2000 --box-layout clustered --json $(BENCH_DIR)/op_soft-nms_clustered.json
	$(OP_BENCH) --op roi_align --count 1024 --rounds 3 --json $(BENCH_DIR)/op_roi-align_fp32.json
	$(OP_BENCH) --op roi_align --count 1024 --rounds 3 --dtype bf16 --json $(BENCH_DIR)/op_roi-align_bf16.json
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/op_*.json --out $(BENCH_DIR)/ops.png

bench: bench-models bench-ops bench-compiled
	$(PY) tools/benchmark.py $(BENCH_ARGS) --mode infer --batch-size 8 --json $(BENCH_DIR)/infer_fp32.json
	$(PY) tools/benchmark.py $(BENCH_ARGS) --mode train --batch-size 4 --json $(BENCH_DIR)/train_fp32.json
	$(PY) tools/benchmark.py $(BENCH_ARGS) --mode train --batch-size 4 --drop-path-rate 0.4 \
		--json $(BENCH_DIR)/train_fp32_dp.json
	$(PY) tools/benchmark.py $(BENCH_ARGS) --mode infer --batch-size 8 --dtype bf16 --json $(BENCH_DIR)/infer_bf16.json
	$(PY) tools/benchmark.py $(BENCH_ARGS) --mode train --batch-size 4 --dtype bf16 --drop-path-rate 0.4 \
		--json $(BENCH_DIR)/train_bf16_dp.json
	$(PY) tools/benchmark.py $(BENCH_V2_ARGS) --mode infer --batch-size 8 --json $(BENCH_DIR)/infer_fp32_v2.json
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/infer_fp32.json $(BENCH_DIR)/train_fp32.json \
		$(BENCH_DIR)/train_fp32_dp.json $(BENCH_DIR)/infer_bf16.json $(BENCH_DIR)/train_bf16_dp.json \
		$(BENCH_DIR)/infer_fp32_v2.json --out $(BENCH_DIR)/backbones.png
	$(PY) tools/benchmark.py $(ORT_BENCH_ARGS) --img-size 800 \
		--config configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py --json $(BENCH_DIR)/onnxruntime_mask-rcnn-t.json
	$(PY) tools/benchmark.py $(ORT_BENCH_ARGS) --img-size 800 \
		--config configs/cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py --json $(BENCH_DIR)/onnxruntime_cascade-mask-rcnn-t.json
	$(PY) tools/benchmark.py $(ORT_BENCH_ARGS) --img-size 512 \
		--config configs/upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py --json $(BENCH_DIR)/onnxruntime_upernet-t.json
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/onnxruntime_*.json --out $(BENCH_DIR)/onnxruntime.png

bench-models: $(STAMP)
	$(MODEL_BENCH) --mode train --batch-size 2 --img-size 512 --config $(MASK_RCNN_T) \
		--json $(BENCH_DIR)/model_train_mask-rcnn-t.json
	$(MODEL_BENCH) --mode train --batch-size 2 --img-size 512 --config $(CASCADE_T) \
		--json $(BENCH_DIR)/model_train_cascade-mask-rcnn-t.json
	$(MODEL_BENCH) --mode train --batch-size 2 --img-size 512 --config $(UPERNET_T) \
		--json $(BENCH_DIR)/model_train_upernet-t.json
	$(MODEL_BENCH) --mode infer --batch-size 1 --img-size 800 --config $(MASK_RCNN_T) \
		--json $(BENCH_DIR)/model_infer_mask-rcnn-t.json
	$(MODEL_BENCH) --mode infer --batch-size 1 --img-size 800 --config $(CASCADE_T) \
		--json $(BENCH_DIR)/model_infer_cascade-mask-rcnn-t.json
	$(MODEL_BENCH) --mode infer --batch-size 1 --img-size 512 --config $(UPERNET_T) \
		--json $(BENCH_DIR)/model_infer_upernet-t.json
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/model_*.json --out $(BENCH_DIR)/models.png

# torch.compile beside eager, each pair in one run (compile time and graph breaks in the JSON's
# meta), fp32 and bf16 autocast, 2 threads. Backbones: ConvNeXt-T and V2-T in the same run (so
# the cost of GRN is read within one run), ours and timm, NHWC at 224, inference at batch 8 and
# training steps at batch 4 with the paper's drop path (0.4). Whole models: the three T configs
# (backbone and neck compiled), training steps at batch 2 and inference of one image, at 512.
COMPILED_BACKBONE := $(PY) tools/benchmark.py --arch tiny --img-size 224 --threads 2 \
	--channels-last --impls ours,timm,ours-v2,timm-v2 --compile --warmup 1 --rounds 5
COMPILED_MODEL := $(PY) tools/benchmark.py --img-size 512 --threads 2 --compile --warmup 1 --rounds 3
COMPILED_MODELS := mask-rcnn-t:configs/mask_rcnn/mask-rcnn_convnext-t_fpn_3x_coco.py \
	cascade-mask-rcnn-t:configs/cascade_mask_rcnn/cascade-mask-rcnn_convnext-t_fpn_3x_coco.py \
	upernet-t:configs/upernet/upernet_convnext-t_8xb2-160k_ade20k-512x512.py

bench-compiled: bench-compiled-backbones bench-compiled-models

bench-compiled-backbones: $(STAMP)
	for dtype in fp32 bf16; do \
		$(COMPILED_BACKBONE) --dtype $$dtype --mode train --batch-size 4 --drop-path-rate 0.4 \
			--json $(BENCH_DIR)/compile_backbone_train_$$dtype.json || exit 1; \
		$(COMPILED_BACKBONE) --dtype $$dtype --mode infer --batch-size 8 \
			--json $(BENCH_DIR)/compile_backbone_infer_$$dtype.json || exit 1; \
	done
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/compile_backbone_*.json --out $(BENCH_DIR)/compiled_backbones.png

bench-compiled-models: $(STAMP)
	for dtype in fp32 bf16; do for entry in $(COMPILED_MODELS); do \
		name=$${entry%%:*}; config=$${entry#*:}; \
		$(COMPILED_MODEL) --config $$config --dtype $$dtype --mode train --batch-size 2 \
			--json $(BENCH_DIR)/compile_$${name}_train_$$dtype.json || exit 1; \
		$(COMPILED_MODEL) --config $$config --dtype $$dtype --mode infer --batch-size 1 \
			--json $(BENCH_DIR)/compile_$${name}_infer_$$dtype.json || exit 1; \
	done; done
	$(PY) tools/plot_benchmarks.py $(BENCH_DIR)/compile_*-t_*.json --out $(BENCH_DIR)/compiled_models.png

clean:
	rm -rf $(VENV) work_dirs
