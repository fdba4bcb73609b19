//! A layered drawing of a DAG (Sugiyama's method, simplified): each node's column is the
//! longest path to it from a root, nodes in a column are ordered by a few barycenter sweeps
//! to reduce crossings, then stacked. Boxes never overlap by construction: a column is as
//! wide as its widest box plus a gap, and boxes in a column are a fixed pitch apart
//! (`layout::tests`, and the suite's 100-node picture test, check it). Pure; no drawing.

/// One box: top-left corner and size, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    #[cfg(test)]
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

#[derive(Debug, Clone)]
pub struct Layout {
    /// One per node, in the input's order.
    pub boxes: Vec<Rect>,
    pub width: f64,
    pub height: f64,
}

/// Box height and the gaps between boxes and columns.
pub const BOX_H: f64 = 40.0;
const ROW_GAP: f64 = 14.0;
const COL_GAP: f64 = 56.0;
const MARGIN: f64 = 12.0;
/// Crossing-reduction sweeps (each one down and one up).
const SWEEPS: usize = 4;

/// Lay out `widths.len()` nodes; `edges` are (parent, child) and must form a DAG.
pub fn layered(widths: &[f64], edges: &[(usize, usize)]) -> Layout {
    let n = widths.len();
    let mut parents = vec![Vec::new(); n];
    let mut children = vec![Vec::new(); n];
    for &(p, c) in edges {
        if p != c && p < n && c < n {
            parents[c].push(p);
            children[p].push(c);
        }
    }
    let rank = ranks(&parents, &children);
    let columns = rank.iter().copied().max().map_or(0, |m| m + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, r) in rank.iter().enumerate() {
        layers[*r].push(i);
    }
    order_layers(&mut layers, &parents, &children, n);

    let pitch = BOX_H + ROW_GAP;
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(0) as f64;
    let height = 2.0 * MARGIN + (tallest * pitch - ROW_GAP).max(0.0);
    let mut boxes = vec![
        Rect {
            x: 0.0,
            y: 0.0,
            w: 0.0,
            h: BOX_H
        };
        n
    ];
    let mut x = MARGIN;
    for layer in &layers {
        let w = layer.iter().map(|i| widths[*i]).fold(0.0, f64::max);
        // Centred vertically against the tallest column.
        let top = MARGIN + (tallest - layer.len() as f64) * pitch / 2.0;
        for (k, &i) in layer.iter().enumerate() {
            boxes[i] = Rect {
                x,
                y: top + k as f64 * pitch,
                w: widths[i],
                h: BOX_H,
            };
        }
        x += w + COL_GAP;
    }
    let width = if layers.is_empty() {
        2.0 * MARGIN
    } else {
        x - COL_GAP + MARGIN
    };
    Layout {
        boxes,
        width,
        height,
    }
}

/// Longest path from a root (Kahn's order; nodes on a cycle, which a DAG has none of, end
/// up in column 0).
fn ranks(parents: &[Vec<usize>], children: &[Vec<usize>]) -> Vec<usize> {
    let n = parents.len();
    let mut indegree: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut rank = vec![0; n];
    let mut queue: std::collections::VecDeque<usize> =
        (0..n).filter(|i| indegree[*i] == 0).collect();
    while let Some(i) = queue.pop_front() {
        for &c in &children[i] {
            rank[c] = rank[c].max(rank[i] + 1);
            indegree[c] -= 1;
            if indegree[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    rank
}

/// Barycenter ordering: each node moves to the mean position of its neighbours in the
/// column before (downward sweep) or after (upward sweep); ties keep the current order.
fn order_layers(
    layers: &mut [Vec<usize>],
    parents: &[Vec<usize>],
    children: &[Vec<usize>],
    n: usize,
) {
    let mut pos = vec![0.0; n];
    let place = |layer: &[usize], pos: &mut Vec<f64>| {
        for (k, &i) in layer.iter().enumerate() {
            pos[i] = k as f64;
        }
    };
    for layer in layers.iter() {
        place(layer, &mut pos);
    }
    let sort = |layer: &mut Vec<usize>, neighbours: &[Vec<usize>], pos: &[f64]| {
        let mut keyed: Vec<(f64, f64, usize)> = layer
            .iter()
            .map(|&i| {
                let ns = &neighbours[i];
                let key = if ns.is_empty() {
                    pos[i]
                } else {
                    ns.iter().map(|j| pos[*j]).sum::<f64>() / ns.len() as f64
                };
                (key, pos[i], i)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        *layer = keyed.into_iter().map(|(_, _, i)| i).collect();
    };
    for _ in 0..SWEEPS {
        for layer in layers.iter_mut().skip(1) {
            sort(layer, parents, &pos);
            place(layer, &mut pos);
        }
        let last = layers.len().saturating_sub(1);
        for layer in layers[..last].iter_mut().rev() {
            sort(layer, children, &pos);
            place(layer, &mut pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_overlap(l: &Layout) {
        for (a, ra) in l.boxes.iter().enumerate() {
            assert!(ra.x >= 0.0 && ra.y >= 0.0, "{ra:?}");
            assert!(
                ra.x + ra.w <= l.width && ra.y + ra.h <= l.height,
                "{ra:?} in {l:?}"
            );
            for rb in &l.boxes[a + 1..] {
                assert!(!ra.overlaps(rb), "{ra:?} overlaps {rb:?}");
            }
        }
    }

    #[test]
    fn a_chain_goes_left_to_right_and_a_fan_stacks() {
        let l = layered(&[100.0, 80.0, 120.0], &[(0, 1), (1, 2)]);
        assert!(l.boxes[0].x < l.boxes[1].x && l.boxes[1].x < l.boxes[2].x);
        no_overlap(&l);
        let l = layered(&[100.0, 80.0, 80.0, 80.0], &[(0, 1), (0, 2), (0, 3)]);
        assert_eq!(l.boxes[1].x, l.boxes[2].x);
        assert_ne!(l.boxes[1].y, l.boxes[2].y);
        no_overlap(&l);
    }

    #[test]
    fn a_node_sits_right_of_all_its_parents_and_random_dags_never_overlap() {
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [1usize, 5, 40, 100] {
            let widths: Vec<f64> = (0..n).map(|_| 60.0 + (next() % 120) as f64).collect();
            let mut edges = Vec::new();
            for c in 1..n {
                for _ in 0..1 + next() % 2 {
                    edges.push(((next() as usize) % c, c));
                }
            }
            let l = layered(&widths, &edges);
            no_overlap(&l);
            for (p, c) in &edges {
                assert!(l.boxes[*p].x + l.boxes[*p].w <= l.boxes[*c].x, "{p} -> {c}");
            }
        }
    }
}
