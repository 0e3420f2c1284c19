package proto

// joinSorted merges two lists sorted by cmp into one: elements only one
// side has are kept (through keep), elements both sides have are joined
// (through join). It is the one walk behind every merge of sorted state
// lists: members, reachability rows, registry rows and entries,
// allocation tables and node sets. The result is never nil.
func joinSorted[T any](a, b []T, cmp func(x, y T) int, keep func(T) T, join func(x, y T) T) []T {
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		c := -1
		switch {
		case j == len(b):
		case i == len(a):
			c = 1
		default:
			c = cmp(a[i], b[j])
		}
		switch {
		case c < 0:
			out = append(out, keep(a[i]))
			i++
		case c > 0:
			out = append(out, keep(b[j]))
			j++
		default:
			out = append(out, join(a[i], b[j]))
			i++
			j++
		}
	}
	return out
}

func same[T any](x T) T { return x }

func first[T any](x, _ T) T { return x }
