# ConvNeXt V2-H UperNet, 160k, 640 x 640 crops, FCMAE + ImageNet-22k fine-tuning (paper Table
# 7, multi-scale), from the 22k model fine-tuned at 512, the largest published resolution.
# The V2-H 512 recipe with ADE20K's 640 pipelines (../_base_/datasets/ade20k-640x640.py, whose
# steps are taken here, as a config has one dataset base) and a 640 slide test.
_base_ = './upernet_convnext-v2-h_8xb2-160k_ade20k-512x512-fcmae.py'
crop_size = (640, 640)
train_pipeline = [dict(t, scale=(2560, 640)) if t['type'] == 'RandomResize' else
                  dict(t, crop_size=crop_size) if t['type'] == 'RandomCrop' else t
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=(2560, 640)) if t['type'] == 'Resize' else t
                 for t in _base_.test_pipeline]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(data_preprocessor=dict(size=crop_size), test_cfg=dict(crop_size=crop_size, stride=(426, 426)),
             backbone=dict(init_cfg=dict(checkpoint='https://dl.fbaipublicfiles.com/convnext/convnextv2/im22k/convnextv2_huge_22k_512_ema.pt')))
model_zoo = dict(pretrain='FCMAE + IN-22k', schedule='160k, 640x640', miou=(None, 57.0))
