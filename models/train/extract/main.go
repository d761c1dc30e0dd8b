// Command extract caches encoder features of the Flickr8k images for
// training, through the same Go decoding, preprocessing and ONNX encoder
// that captionbot runs at inference time.
//
//	go run ./models/train/extract -images ../shared/flickr8k/images \
//	    -split ../shared/flickr8k/Flickr_8k.trainImages.txt \
//	    -split ../shared/flickr8k/Flickr_8k.devImages.txt -out /tmp/features
//
// It writes names.txt (one image a line), pooled.npy (float32 [M,1280]) and
// spatial.npy (float32 [M,49,1280]) and, when the model folder has the
// object detector, detvec.npy (float32 [M,160], captioner.DetectorVector),
// in NumPy's .npy format.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/captionbot/captionbot/captioner"
)

type splits []string

func (s *splits) String() string     { return strings.Join(*s, ",") }
func (s *splits) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var list splits
	images := flag.String("images", "", "folder of images")
	out := flag.String("out", "", "output folder")
	modelDir := flag.String("models", "models", "folder with encoder.onnx")
	batch := flag.Int("batch", 16, "images per encoder run")
	limit := flag.Int("limit", 0, "only the first N images (smoke tests)")
	floor := flag.Float64("detector-floor", captioner.DetectorVectorFloor,
		"lowest detection score in detvec.npy (not below captioner.DetectorVectorFloor)")
	flag.Var(&list, "split", "file listing image names (repeatable)")
	flag.Parse()
	if *images == "" || *out == "" || len(list) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *floor < captioner.DetectorVectorFloor {
		log.Fatalf("-detector-floor %v is below captioner.DetectorVectorFloor %v", *floor, captioner.DetectorVectorFloor)
	}
	if err := run(*images, *out, *modelDir, list, *batch, *limit, *floor); err != nil {
		log.Fatal(err)
	}
}

func run(imagesDir, outDir, modelDir string, list []string, batch, limit int, floor float64) error {
	var names []string
	for _, path := range list {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if n := strings.TrimSpace(sc.Text()); n != "" {
				names = append(names, n)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	if limit > 0 && limit < len(names) {
		names = names[:limit]
	}
	c, err := captioner.New(captioner.Options{ModelDir: modelDir})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	pooled, err := newNPY(filepath.Join(outDir, "pooled.npy"), len(names), 1280)
	if err != nil {
		return err
	}
	spatial, err := newNPY(filepath.Join(outDir, "spatial.npy"), len(names), 49, 1280)
	if err != nil {
		return err
	}
	var detvec *npyWriter
	if c.HasDetector() {
		if detvec, err = newNPY(filepath.Join(outDir, "detvec.npy"), len(names), captioner.DetectorVectorLen); err != nil {
			return err
		}
	}
	ctx := context.Background()
	for i := 0; i < len(names); i += batch {
		end := min(i+batch, len(names))
		imgs := make([]image.Image, 0, end-i)
		for _, n := range names[i:end] {
			data, err := os.ReadFile(filepath.Join(imagesDir, n))
			if err != nil {
				return err
			}
			img, err := captioner.DecodeImage(data)
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			imgs = append(imgs, img)
		}
		encs, err := c.EncodeImages(ctx, imgs)
		if err != nil {
			return err
		}
		for _, e := range encs {
			if err := errors.Join(pooled.write(e.Pooled), spatial.write(e.Spatial)); err != nil {
				return err
			}
		}
		if detvec != nil {
			vecs, err := c.DetectorVectorsAt(ctx, imgs, floor)
			if err != nil {
				return err
			}
			for _, v := range vecs {
				if err := detvec.write(v); err != nil {
					return err
				}
			}
		}
		if i%1000 < batch {
			log.Printf("%d/%d", end, len(names))
		}
	}
	if detvec != nil {
		if err := detvec.close(); err != nil {
			return err
		}
	}
	if err := errors.Join(pooled.close(), spatial.close()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "names.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644)
}

// npyWriter streams a little-endian float32 array in NumPy's .npy v1 format.
type npyWriter struct {
	f *os.File
	w *bufio.Writer
}

func newNPY(path string, shape ...int) (*npyWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s,), }", strings.Join(dims, ", "))
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	w := bufio.NewWriterSize(f, 1<<20)
	io.WriteString(w, "\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	io.WriteString(w, header)
	return &npyWriter{f: f, w: w}, nil
}

func (n *npyWriter) write(v []float32) error {
	var b [4]byte
	for _, x := range v {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		if _, err := n.w.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}

func (n *npyWriter) close() error {
	return errors.Join(n.w.Flush(), n.f.Close())
}
