//! A dependency queue (after cargo's): run a job per node, each once the nodes it depends
//! on have succeeded, at most `jobs` at a time. A failure blocks its dependents and, by
//! default, lets independent nodes finish; `fail_fast` stops everything at once (running
//! jobs are dropped, which cancels their daemon requests).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::error::Error;

#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Failed(Error),
    /// Not run because a node it depends on failed or was blocked.
    Blocked {
        by: usize,
    },
    /// Not run (or stopped) because another node failed under `fail_fast`.
    Cancelled,
}

impl<T> Outcome<T> {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done(_))
    }
}

type Job<'a, T> = Pin<Box<dyn Future<Output = (usize, Result<T, Error>)> + 'a>>;

/// Run `start(node, done)` for every node of `order` (a topological order), where `deps(n)`
/// lists what `n` waits for (nodes outside `order` are ignored) and `done` holds the results
/// of finished nodes. Returns one outcome per node of `order`.
pub async fn run<'a, T, D, F, Fut>(
    order: &[usize],
    deps: D,
    jobs: usize,
    fail_fast: bool,
    start: F,
) -> HashMap<usize, Outcome<T>>
where
    T: Clone + 'a,
    D: Fn(usize) -> Vec<usize>,
    F: FnMut(usize, &HashMap<usize, T>) -> Fut,
    Fut: Future<Output = Result<T, Error>> + 'a,
{
    run_judged(order, deps, jobs, fail_fast, |_| true, start).await
}

/// `run`, where a job that returns `Ok(v)` with `succeeded(&v) == false` (a failed test, say)
/// keeps its value but blocks its dependents and triggers `fail_fast` like an error.
pub async fn run_judged<'a, T, D, J, F, Fut>(
    order: &[usize],
    deps: D,
    jobs: usize,
    fail_fast: bool,
    succeeded: J,
    mut start: F,
) -> HashMap<usize, Outcome<T>>
where
    T: Clone + 'a,
    D: Fn(usize) -> Vec<usize>,
    J: Fn(&T) -> bool,
    F: FnMut(usize, &HashMap<usize, T>) -> Fut,
    Fut: Future<Output = Result<T, Error>> + 'a,
{
    let jobs = jobs.max(1);
    let selected: BTreeSet<usize> = order.iter().copied().collect();
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let waits: HashMap<usize, Vec<usize>> = order
        .iter()
        .map(|n| {
            let d: Vec<usize> = deps(*n)
                .into_iter()
                .filter(|d| selected.contains(d))
                .collect();
            (*n, d)
        })
        .collect();

    let mut outcomes: HashMap<usize, Outcome<T>> = HashMap::new();
    let mut done: HashMap<usize, T> = HashMap::new();
    let mut running: FuturesUnordered<Job<'a, T>> = FuturesUnordered::new();
    let mut running_set: BTreeSet<usize> = BTreeSet::new();
    // Nodes that failed, were blocked or were cancelled: their dependents cannot run.
    let mut failed: BTreeSet<usize> = BTreeSet::new();
    let mut stop = false;

    loop {
        // Settle nodes whose dependencies failed, then start what is ready, in order.
        if !stop {
            for &n in order {
                if outcomes.contains_key(&n) || running_set.contains(&n) {
                    continue;
                }
                if let Some(bad) = waits[&n].iter().find(|d| failed.contains(d)) {
                    outcomes.insert(n, Outcome::Blocked { by: *bad });
                    failed.insert(n);
                    continue;
                }
                if running.len() >= jobs {
                    continue;
                }
                if waits[&n].iter().all(|d| done.contains_key(d)) {
                    let fut = start(n, &done);
                    running_set.insert(n);
                    running.push(Box::pin(async move { (n, fut.await) }));
                }
            }
        }
        let Some((n, result)) = running.next().await else {
            break;
        };
        running_set.remove(&n);
        match result {
            Ok(v) if succeeded(&v) => {
                done.insert(n, v.clone());
                outcomes.insert(n, Outcome::Done(v));
            }
            result => {
                outcomes.insert(
                    n,
                    match result {
                        Ok(v) => Outcome::Done(v),
                        Err(e) => Outcome::Failed(e),
                    },
                );
                failed.insert(n);
                if fail_fast {
                    stop = true;
                    // Dropping the futures cancels their requests.
                    running = FuturesUnordered::new();
                    for r in std::mem::take(&mut running_set) {
                        outcomes.insert(r, Outcome::Cancelled);
                    }
                }
            }
        }
        if stop {
            break;
        }
    }
    // Whatever never started: blocked by a failed dependency, or cancelled.
    let mut rest: Vec<usize> = order
        .iter()
        .copied()
        .filter(|n| !outcomes.contains_key(n))
        .collect();
    rest.sort_by_key(|n| position[n]);
    for n in rest {
        let blocker = waits[&n].iter().find(|d| failed.contains(d)).copied();
        let o = match blocker {
            Some(b) if !stop => Outcome::Blocked { by: b },
            _ => Outcome::Cancelled,
        };
        outcomes.insert(n, o);
        failed.insert(n);
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    // Graph: 0 -> 1 -> 3, 0 -> 2 (2 independent of 1), 4 alone.
    fn deps(n: usize) -> Vec<usize> {
        match n {
            1 | 2 => vec![0],
            3 => vec![1],
            _ => vec![],
        }
    }

    #[tokio::test]
    async fn runs_in_dependency_order_and_passes_results() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let out = run(&[0, 1, 2, 3, 4], deps, 4, false, |n, done| {
            let parent_sum: usize = deps(n).iter().map(|d| done[d]).sum();
            let log = log.clone();
            async move {
                log.lock().unwrap().push(n);
                Ok(n * 10 + parent_sum)
            }
        })
        .await;
        let l = log.lock().unwrap().clone();
        let pos = |x| l.iter().position(|v| *v == x).unwrap();
        assert!(pos(0) < pos(1) && pos(1) < pos(3) && pos(0) < pos(2));
        assert!(matches!(out[&3], Outcome::Done(v) if v == 30 + 10));
    }

    #[tokio::test]
    async fn failure_blocks_dependents_and_lets_others_finish() {
        let out = run(&[0, 1, 2, 3, 4], deps, 2, false, |n, _| async move {
            if n == 1 {
                Err(Error::Failed("boom".into()))
            } else {
                Ok(n)
            }
        })
        .await;
        assert!(matches!(out[&1], Outcome::Failed(_)));
        assert!(matches!(out[&3], Outcome::Blocked { by: 1 }));
        assert!(out[&2].is_done());
        assert!(out[&4].is_done());
    }

    #[tokio::test]
    async fn fail_fast_cancels_the_rest() {
        let out = run(&[4, 0, 1, 2, 3], deps, 1, true, |n, _| async move {
            if n == 4 {
                Err(Error::Failed("boom".into()))
            } else {
                Ok(n)
            }
        })
        .await;
        assert!(matches!(out[&4], Outcome::Failed(_)));
        for n in 0..4 {
            assert!(matches!(out[&n], Outcome::Cancelled), "{n}: {:?}", out[&n]);
        }
    }

    #[tokio::test]
    async fn a_judged_failure_keeps_its_value_and_blocks_dependents() {
        let out = run_judged(
            &[0, 1, 2, 3],
            deps,
            2,
            false,
            |v: &usize| *v != 1,
            |n, _| async move { Ok(n) },
        )
        .await;
        assert!(matches!(out[&1], Outcome::Done(1)));
        assert!(matches!(out[&3], Outcome::Blocked { by: 1 }));
        assert!(out[&2].is_done());
    }

    #[tokio::test]
    async fn at_most_jobs_at_once() {
        let current = Arc::new(Mutex::new((0usize, 0usize)));
        let nodes: Vec<usize> = (0..8).collect();
        run(
            &nodes,
            |_| vec![],
            3,
            false,
            |n, _| {
                let current = current.clone();
                async move {
                    {
                        let mut c = current.lock().unwrap();
                        c.0 += 1;
                        c.1 = c.1.max(c.0);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    current.lock().unwrap().0 -= 1;
                    Ok(n)
                }
            },
        )
        .await;
        assert_eq!(current.lock().unwrap().1, 3);
    }
}
