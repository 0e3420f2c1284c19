package proto

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Regressions found by the table and law tests.

func TestParseAddressRejectsMisplacedIPv4(t *testing.T) {
	for _, in := range []string{"[1.2.3.4::]:80", "[1.2.3.4::5]:80", "[1:1.2.3.4::]:80", "[fe80::1%]:80", "[::1%a%b]:80", "]:80", "a b:80"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseAddress(in); !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseAddress(%q) error = %v, want ErrBadAddress", in, err)
			}
		})
	}
	for _, in := range []string{"[::ffff:1.2.3.4]:80", "[1::1.2.3.4]:80", "[fe80::1%eth0]:80", "node-1.example:80"} {
		t.Run(in, func(t *testing.T) {
			if _, err := ParseAddress(in); err != nil {
				t.Errorf("ParseAddress(%q) = %v, want success", in, err)
			}
		})
	}
}

func TestMergeMemberRolesCommutative(t *testing.T) {
	u := UniqueAddress{Address: Address{Host: "10.0.0.1", Port: 1}, UID: 1}
	a := Member{Node: u, Status: Up, Roles: []string{"a,b", "c"}}
	b := Member{Node: u, Status: Up, Roles: []string{"a", "b,c"}}
	if diff := cmp.Diff(mergeMember(a, b), mergeMember(b, a)); diff != "" {
		t.Errorf("mergeMember not commutative (-ab +ba):\n%s", diff)
	}
}
