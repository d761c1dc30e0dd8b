// Package captioner describes photos offline: it decodes and preprocesses an
// image (DecodeImage, Preprocess), runs an ImageNet CNN encoder through ONNX
// Runtime (models/encoder.onnx) to get a feature vector, a spatial feature map
// and ImageNet labels, and, when the decoder models are present, an LSTM
// caption. Captioner implements bot.Describer.
package captioner
