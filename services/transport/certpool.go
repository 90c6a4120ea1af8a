package transport

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxCAFileBytes bounds one extra CA file.
const maxCAFileBytes = 4 << 20

// CertPool returns the system's root certificates plus every certificate in
// the given PEM files (a private federation's CA, a test CA). A file that
// cannot be read, holds a certificate that does not parse, or holds no
// certificate at all is an error naming the file.
func CertPool(extraCAFiles []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("transport: system root certificates: %w", err)
	}
	for _, name := range extraCAFiles {
		if err := addPEMFile(pool, name); err != nil {
			return nil, fmt.Errorf("transport: CA file %q: %w", name, err)
		}
	}
	return pool, nil
}

func addPEMFile(pool *x509.CertPool, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer closeQuietly(f)
	data, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxCAFileBytes {
		return fmt.Errorf("larger than %d bytes", maxCAFileBytes)
	}
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("certificate %d: %w", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return errors.New("no PEM certificate found")
	}
	return nil
}

// CheckCAFiles checks extra CA files the way CertPool reads them, without
// loading the system roots: for a start-up check when the pool itself is
// built on first use.
func CheckCAFiles(extraCAFiles []string) error {
	pool := x509.NewCertPool()
	for _, name := range extraCAFiles {
		if err := addPEMFile(pool, name); err != nil {
			return fmt.Errorf("transport: CA file %q: %w", name, err)
		}
	}
	return nil
}
