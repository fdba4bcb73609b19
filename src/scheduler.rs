//! A dependency queue (after cargo's): run a job per node, each once the nodes it depends
//! on have succeeded, at most `jobs` at a time. A failure blocks its dependents and, by
//! default, lets independent nodes finish. `fail_fast` starts nothing more and raises the
//! `Cancel` flag every job was given; running jobs are never dropped, they see the flag,
//! stop, tear down what they created, and are waited for.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

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

type Job<'a, T> = Pin<Box<dyn Future<Output = (usize, Result<T, Error>)> + 'a>>;

/// A flag raised once, that jobs can check or wait for.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<(AtomicBool, Notify)>);

impl Cancel {
    pub fn raise(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    pub fn is_raised(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Resolves once the flag is raised.
    pub async fn raised(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_raised() {
                return;
            }
            notified.await;
        }
    }

    /// Run `fut` unless the flag goes up first (then `fut` is dropped: only for work that
    /// leaves nothing behind when dropped, like a build request or a check).
    pub async fn or_cancelled<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::select! {
            r = fut => r,
            _ = self.raised() => Err(Error::Cancelled),
        }
    }
}

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
    F: FnMut(usize, &HashMap<usize, T>, Cancel) -> Fut,
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
    F: FnMut(usize, &HashMap<usize, T>, Cancel) -> Fut,
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
    // The queue's bookkeeping, so that each step costs what it touches (not the whole
    // order): who waits on each node, how many dependencies each still waits for, and the
    // nodes ready to start, by their place in `order`.
    let mut dependents: HashMap<usize, Vec<usize>> = HashMap::new();
    for &n in order {
        for &d in &waits[&n] {
            dependents.entry(d).or_default().push(n);
        }
    }
    let mut remaining: HashMap<usize, usize> = order.iter().map(|n| (*n, waits[n].len())).collect();
    let mut ready: BTreeSet<(usize, usize)> = order
        .iter()
        .filter(|n| remaining[*n] == 0)
        .map(|n| (position[n], *n))
        .collect();

    let mut outcomes: HashMap<usize, Outcome<T>> = HashMap::new();
    let mut done: HashMap<usize, T> = HashMap::new();
    let mut running: FuturesUnordered<Job<'a, T>> = FuturesUnordered::new();
    // Nodes that failed, were blocked or were cancelled: their dependents cannot run.
    let mut failed: BTreeSet<usize> = BTreeSet::new();
    let mut stop = false;
    let cancel = Cancel::default();

    loop {
        // Start what is ready, in order.
        while !stop && running.len() < jobs {
            let Some((_, n)) = ready.pop_first() else {
                break;
            };
            let fut = start(n, &done, cancel.clone());
            running.push(Box::pin(async move { (n, fut.await) }));
        }
        let Some((n, result)) = running.next().await else {
            break;
        };
        match result {
            // A job that stopped because of the flag is cancelled, not failed.
            Err(Error::Cancelled) => {
                outcomes.insert(n, Outcome::Cancelled);
                failed.insert(n);
            }
            Ok(v) if succeeded(&v) => {
                done.insert(n, v.clone());
                outcomes.insert(n, Outcome::Done(v));
                for &d in dependents.get(&n).into_iter().flatten() {
                    let left = remaining.get_mut(&d).expect("a selected node");
                    *left -= 1;
                    if *left == 0 && !outcomes.contains_key(&d) {
                        ready.insert((position[&d], d));
                    }
                }
                continue;
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
                if fail_fast && !stop {
                    // Start nothing more; the running jobs see the flag, clean up and
                    // finish (they are awaited below, never dropped).
                    stop = true;
                    cancel.raise();
                }
            }
        }
        // What waits on a node that did not succeed is blocked by it, and so on down
        // (under fail_fast it is cancelled instead, below).
        if !stop {
            let mut stack = vec![n];
            while let Some(b) = stack.pop() {
                for &d in dependents.get(&b).into_iter().flatten() {
                    if let std::collections::hash_map::Entry::Vacant(e) = outcomes.entry(d) {
                        e.insert(Outcome::Blocked { by: b });
                        failed.insert(d);
                        stack.push(d);
                    }
                }
            }
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
        let out = run(&[0, 1, 2, 3, 4], deps, 4, false, |n, done, _| {
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
        let out = run(&[0, 1, 2, 3, 4], deps, 2, false, |n, _, _| async move {
            if n == 1 {
                Err(Error::host("boom", None))
            } else {
                Ok(n)
            }
        })
        .await;
        assert!(matches!(out[&1], Outcome::Failed(_)));
        assert!(matches!(out[&3], Outcome::Blocked { by: 1 }));
        assert!(matches!(out[&2], Outcome::Done(_)));
        assert!(matches!(out[&4], Outcome::Done(_)));
    }

    #[tokio::test]
    async fn fail_fast_cancels_the_rest() {
        let out = run(&[4, 0, 1, 2, 3], deps, 1, true, |n, _, _| async move {
            if n == 4 {
                Err(Error::host("boom", None))
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
    async fn fail_fast_waits_for_running_jobs_to_clean_up() {
        let cleaned = Arc::new(AtomicBool::new(false));
        let out = run(
            &[0, 4],
            |_| vec![],
            2,
            true,
            |n, _: &HashMap<usize, usize>, cancel| {
                let cleaned = cleaned.clone();
                async move {
                    if n == 0 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        return Err(Error::host("boom", None));
                    }
                    // A long job: it stops when the flag goes up, and tears down first.
                    cancel.raised().await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    cleaned.store(true, Ordering::SeqCst);
                    Err(Error::Cancelled)
                }
            },
        )
        .await;
        assert!(matches!(out[&0], Outcome::Failed(_)));
        assert!(matches!(out[&4], Outcome::Cancelled));
        assert!(
            cleaned.load(Ordering::SeqCst),
            "the running job was not dropped"
        );
    }

    #[tokio::test]
    async fn a_judged_failure_keeps_its_value_and_blocks_dependents() {
        let out = run_judged(
            &[0, 1, 2, 3],
            deps,
            2,
            false,
            |v: &usize| *v != 1,
            |n, _, _| async move { Ok(n) },
        )
        .await;
        assert!(matches!(out[&1], Outcome::Done(1)));
        assert!(matches!(out[&3], Outcome::Blocked { by: 1 }));
        assert!(matches!(out[&2], Outcome::Done(_)));
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
            |n, _, _| {
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
