package cjson

// MarshalJSON makes a Value usable inside structs encoded with encoding/json;
// the Value's part of the output is canonical.
func (v Value) MarshalJSON() ([]byte, error) { return Encode(v), nil }

// UnmarshalJSON decodes with this package's strict rules.
func (v *Value) UnmarshalJSON(data []byte) error {
	d, err := Decode(data)
	if err != nil {
		return err
	}
	*v = d
	return nil
}
