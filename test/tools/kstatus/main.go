// kstatus prints the health that kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status) computes for one
// Kubernetes object: the verdict Flux's kustomize-controller and helm-controller wait on. The tests
// feed it NetworkChecks as the API server stored them, so the GitOps mapping is checked with the
// tool's own code rather than with our reading of its rules.
//
// Usage: kstatus < object.(json|yaml)
// Prints one JSON line: {"status":"Current|InProgress|Failed|Terminating|...","message":"..."}.
// Exits 2 when the input is not one object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	out, err := compute(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(2)
	}
	fmt.Println(string(out))
}

func compute(in io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	// JSON is YAML: one decoder for both.
	asJSON, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	// Decoded as the API machinery decodes objects: integers stay int64 (metadata.generation).
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(asJSON); err != nil {
		return nil, fmt.Errorf("not one Kubernetes object: %w", err)
	}
	if object.GetAPIVersion() == "" || object.GetKind() == "" {
		return nil, fmt.Errorf("not a Kubernetes object: apiVersion and kind are required")
	}
	result, err := status.Compute(object)
	if err != nil {
		return nil, err
	}
	return json.Marshal(verdict{Status: result.Status.String(), Message: result.Message})
}
