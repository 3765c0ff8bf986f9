# On the GPU machine, sourced: `source tools/gpu/install.sh`. Installs the carried wheels (.whl/)
# into /tmp/site and puts it and the repository on PYTHONPATH (no .pth file runs from a
# --target folder: `import convnext_dense`, which every tool does first, installs the kernel
# finder). Under a minute.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || return 1
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import convnext_dense, mmdet, mmseg, torch; print('ready:', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
