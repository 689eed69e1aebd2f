"""Images for the Captioner: decoding and preprocessing, and CNN encoders."""

from kzoo.vision.encoders import BACKBONES, ImageEncoder, SmallCNN
from kzoo.vision.images import check_image_size, check_images, decode_images, resize_to_model, to_model_pixels

__all__ = ["BACKBONES", "ImageEncoder", "SmallCNN", "check_image_size", "check_images", "decode_images", "resize_to_model", "to_model_pixels"]
