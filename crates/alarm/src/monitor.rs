//! The alarms of one account and Region evaluated together against an injected clock:
//! metric alarms first (each once per evaluation-grid step), then composite alarms, children
//! before parents, so a composite sees its children's new states in the same tick.

use chrono::{DateTime, Utc};

use crate::anomaly::AnomalyConfig;
use crate::aws::AccountContext;
use crate::composite::{ChildState, CompositeStatus, evaluate_composite, evaluation_order};
use crate::error::{AlarmError, Result, invalid};
use crate::evaluate::{BaselineCache, evaluate_metric_alarm_with, evaluation_end, set_alarm_state};
use crate::model::{CompositeAlarm, DescribeAlarmsOutput, MetricAlarm, StateValue};
use crate::source::{Clock, MetricSource};
use crate::state::{AlarmKind, AlarmStatus, StateChange, StateSnapshot};
use crate::validate::{CompositeAlarmSpec, MetricAlarmSpec};

/// What an evaluation produced.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmEvent {
    /// A state transition; `actions` are to run now.
    Transition(StateChange),
    /// A composite alarm's held actions, released when the suppressor's wait or extension
    /// period ended; the change is the original transition.
    ReleasedActions(StateChange),
}

impl AlarmEvent {
    pub fn change(&self) -> &StateChange {
        match self {
            AlarmEvent::Transition(c) | AlarmEvent::ReleasedActions(c) => c,
        }
    }
}

struct MetricEntry {
    spec: MetricAlarmSpec,
    status: AlarmStatus,
    last_grid: Option<DateTime<Utc>>,
    baselines: BaselineCache,
}

struct CompositeEntry {
    spec: CompositeAlarmSpec,
    status: CompositeStatus,
}

/// Alarms, their states, and the clock.
pub struct Monitor<C: Clock> {
    clock: C,
    ctx: AccountContext,
    anomaly: AnomalyConfig,
    metric: Vec<MetricEntry>,
    composite: Vec<CompositeEntry>,
    order: Vec<usize>,
}

fn resumed(
    state: Option<StateValue>,
    reason: Option<&str>,
    data: Option<&str>,
    now: DateTime<Utc>,
) -> AlarmStatus {
    match state {
        Some(value) => AlarmStatus::with_state(StateSnapshot {
            value,
            reason: reason.unwrap_or_default().to_string(),
            reason_data: data.map(str::to_string),
            timestamp: now,
        }),
        None => AlarmStatus::new(now),
    }
}

impl<C: Clock> Monitor<C> {
    pub fn new(clock: C, ctx: AccountContext) -> Monitor<C> {
        Monitor {
            clock,
            ctx,
            anomaly: AnomalyConfig::default(),
            metric: Vec::new(),
            composite: Vec::new(),
            order: Vec::new(),
        }
    }

    pub fn with_anomaly_config(mut self, anomaly: AnomalyConfig) -> Monitor<C> {
        self.anomaly = anomaly;
        self
    }

    pub fn context(&self) -> &AccountContext {
        &self.ctx
    }

    /// The clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Adds every valid alarm of a `describe-alarms` document, resuming from its
    /// `StateValue` when present; returns the problems (invalid alarms, cycles).
    pub fn load(&mut self, defs: &DescribeAlarmsOutput) -> Vec<AlarmError> {
        let mut errors = Vec::new();
        for m in &defs.metric_alarms {
            if let Err(e) = self.put_metric_alarm(m.clone()) {
                errors.push(e);
            }
        }
        for c in &defs.composite_alarms {
            match c.validate() {
                Ok(spec) => {
                    let now = self.clock.now();
                    let status = resumed(
                        c.state_value,
                        c.state_reason.as_deref(),
                        c.state_reason_data.as_deref(),
                        now,
                    );
                    self.upsert_composite(spec, status);
                }
                Err(e) => errors.push(e),
            }
        }
        let (order, cycles) = evaluation_order(&self.composite_specs());
        self.order = order;
        errors.extend(cycles);
        errors
    }

    fn composite_specs(&self) -> Vec<CompositeAlarmSpec> {
        self.composite.iter().map(|c| c.spec.clone()).collect()
    }

    fn upsert_composite(&mut self, spec: CompositeAlarmSpec, status: AlarmStatus) {
        match self
            .composite
            .iter_mut()
            .find(|c| c.spec.name() == spec.name())
        {
            Some(e) => e.spec = spec,
            None => self.composite.push(CompositeEntry {
                spec,
                status: CompositeStatus::with_status(status),
            }),
        }
    }

    /// PutMetricAlarm: adds or replaces (keeping the state, as AWS does).
    pub fn put_metric_alarm(&mut self, def: MetricAlarm) -> Result<()> {
        let spec = def.validate()?;
        if self.composite.iter().any(|c| c.spec.name() == spec.name()) {
            return Err(invalid(
                spec.name(),
                "AlarmName",
                "a composite alarm already has this name",
            ));
        }
        let now = self.clock.now();
        match self
            .metric
            .iter_mut()
            .find(|m| m.spec.name() == spec.name())
        {
            Some(e) => {
                e.spec = spec;
                e.last_grid = None;
                e.baselines = BaselineCache::default();
            }
            None => {
                let status = resumed(
                    def.state_value,
                    def.state_reason.as_deref(),
                    def.state_reason_data.as_deref(),
                    now,
                );
                self.metric.push(MetricEntry {
                    spec,
                    status,
                    last_grid: None,
                    baselines: BaselineCache::default(),
                });
            }
        }
        Ok(())
    }

    /// PutCompositeAlarm: adds or replaces; refused if it would close a cycle.
    pub fn put_composite_alarm(&mut self, def: CompositeAlarm) -> Result<()> {
        let spec = def.validate()?;
        if self.metric.iter().any(|m| m.spec.name() == spec.name()) {
            return Err(invalid(
                spec.name(),
                "AlarmName",
                "a metric alarm already has this name",
            ));
        }
        let mut specs = self.composite_specs();
        match specs.iter_mut().find(|s| s.name() == spec.name()) {
            Some(s) => *s = spec.clone(),
            None => specs.push(spec.clone()),
        }
        let (order, mut cycles) = evaluation_order(&specs);
        if let Some(e) = cycles.pop() {
            return Err(e);
        }
        let now = self.clock.now();
        self.upsert_composite(spec, AlarmStatus::new(now));
        // upsert keeps the existing index for a replaced alarm and appends a new one, the
        // same layout `specs` had.
        self.order = order;
        Ok(())
    }

    /// DeleteAlarms for one name.
    pub fn delete_alarm(&mut self, name: &str) -> bool {
        let before = self.metric.len() + self.composite.len();
        self.metric.retain(|m| m.spec.name() != name);
        self.composite.retain(|c| c.spec.name() != name);
        let (order, _) = evaluation_order(&self.composite_specs());
        self.order = order;
        before != self.metric.len() + self.composite.len()
    }

    pub fn state(&self, name: &str) -> Option<StateValue> {
        self.status(name).map(AlarmStatus::state)
    }

    pub fn status(&self, name: &str) -> Option<&AlarmStatus> {
        self.metric
            .iter()
            .find(|m| m.spec.name() == name)
            .map(|m| &m.status)
            .or_else(|| {
                self.composite
                    .iter()
                    .find(|c| c.spec.name() == name)
                    .map(|c| &c.status.status)
            })
    }

    pub fn metric_alarm(&self, name: &str) -> Option<&MetricAlarmSpec> {
        self.metric
            .iter()
            .find(|m| m.spec.name() == name)
            .map(|m| &m.spec)
    }

    pub fn composite_alarm(&self, name: &str) -> Option<&CompositeAlarmSpec> {
        self.composite
            .iter()
            .find(|c| c.spec.name() == name)
            .map(|c| &c.spec)
    }

    /// SetAlarmState: holds until the alarm's next evaluation.
    pub fn set_alarm_state(
        &mut self,
        name: &str,
        value: StateValue,
        reason: &str,
        reason_data: Option<&str>,
    ) -> Result<Option<AlarmEvent>> {
        let now = self.clock.now();
        if let Some(m) = self.metric.iter_mut().find(|m| m.spec.name() == name) {
            let change = set_alarm_state(&m.spec, &mut m.status, value, reason, reason_data, now);
            return Ok(change.map(AlarmEvent::Transition));
        }
        if let Some(c) = self.composite.iter_mut().find(|c| c.spec.name() == name) {
            let new = StateSnapshot {
                value,
                reason: reason.to_string(),
                reason_data: reason_data.map(str::to_string),
                timestamp: now,
            };
            let def = &c.spec.definition;
            return Ok(c.status.status.transition(new.clone()).map(|old| {
                AlarmEvent::Transition(StateChange {
                    alarm_name: def.alarm_name.clone(),
                    kind: AlarmKind::Composite,
                    old,
                    new,
                    actions: if def.actions_enabled() {
                        def.actions_for(value).to_vec()
                    } else {
                        Vec::new()
                    },
                    suppression: None,
                    triggering_children: Vec::new(),
                })
            }));
        }
        Err(invalid(name, "AlarmName", "no such alarm"))
    }

    fn child_state(&self, name: &str) -> Option<ChildState> {
        let (arn, status) = if let Some(m) = self.metric.iter().find(|m| m.spec.name() == name) {
            (m.spec.definition.alarm_arn.clone(), &m.status)
        } else {
            let c = self.composite.iter().find(|c| c.spec.name() == name)?;
            (c.spec.definition.alarm_arn.clone(), &c.status.status)
        };
        Some(ChildState {
            arn: arn.unwrap_or_else(|| self.ctx.alarm_arn(name)),
            value: status.state(),
            timestamp: status.current().timestamp,
            previous: status.history().last().map(|h| h.old.value),
        })
    }

    /// Evaluates every metric alarm at the clock's time even when it was evaluated in this
    /// step already: new data arrived (live mode reacts within seconds, not at the next
    /// minute). Then composites, as [`Monitor::evaluate`].
    pub fn evaluate_all(&mut self, source: &dyn MetricSource) -> Vec<AlarmEvent> {
        for m in &mut self.metric {
            m.last_grid = None;
        }
        self.evaluate(source)
    }

    /// Evaluates every alarm that is due at the clock's time.
    pub fn evaluate(&mut self, source: &dyn MetricSource) -> Vec<AlarmEvent> {
        let now = self.clock.now();
        let mut events = Vec::new();
        for m in &mut self.metric {
            let grid = evaluation_end(&m.spec, now);
            if m.last_grid == Some(grid) {
                continue;
            }
            m.last_grid = Some(grid);
            if let Some(change) = evaluate_metric_alarm_with(
                &m.spec,
                &mut m.status,
                source,
                now,
                &self.anomaly,
                &mut m.baselines,
            ) {
                events.push(AlarmEvent::Transition(change));
            }
        }
        for i in self.order.clone() {
            let Some(entry) = self.composite.get(i) else {
                continue;
            };
            let spec = entry.spec.clone();
            let mut status = entry.status.clone();
            let outcome = {
                let lookup = |name: &str| self.child_state(name);
                evaluate_composite(&spec, &mut status, &lookup, &self.ctx, now)
            };
            if let Some(entry) = self.composite.get_mut(i) {
                entry.status = status;
            }
            events.extend(outcome.change.map(AlarmEvent::Transition));
            events.extend(outcome.released.map(AlarmEvent::ReleasedActions));
        }
        events
    }
}
