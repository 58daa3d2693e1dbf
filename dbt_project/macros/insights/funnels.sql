{#-
    Funnels (PostHog's FunnelsQueryRunner and its `aggregate_funnel` UDF, funnel-udf/src/steps.rs
    and unordered_steps.rs), set-based: one scan of the insight's events, one window pass over
    them, then per step one equality join and one window over the attempts. No per-actor loop.

    Vocabulary. An *actor* is what the funnel counts: the event's person, or with
    `aggregation_group_type_index` the event's group key of that type (events without one are
    left out, so different people can complete the steps of one group, and a person active in two
    groups drives two funnels). Every event the funnel reads lies inside the date range, passes
    the insight's `properties`, and has an actor. Events are ordered by (timestamp, uuid); the
    window W is `funnelWindowInterval` × unit (second … week; a month is 31 days, as PostHog's
    DATERANGE_MAP), 14 days by default.

    Ordered and strict funnels. Every step-1 event starts an *attempt*. An attempt takes as step
    j + 1 the first event (by timestamp, then uuid) that matches step j + 1, is not earlier than
    its step j and is not an event the attempt already used — so events at the same timestamp can
    fill consecutive steps in step order (PostHog's UDF processes equal timestamps by step), and
    one event fills at most one step of an attempt even when it matches two step definitions —
    provided it lies in the window: t − t(step 1) ≤ W, the end inclusive. Taking the earliest
    candidate is optimal, so each attempt's chain is found by lookups, not by search. When several
    attempts would take the same event for a step, the latest-started one takes it and the others
    stop there (PostHog keeps one attempt per step, the latest to reach it).
    Ordered funnels whose steps never share an event and that have no exclusions (the common
    case) find the same attempts by *claims*, one window pass per step, no joins: of the attempts
    that reached step j − 1 at a time after the previous step-j event (p) and not after this
    step-j event (t) — exactly those that would take it — the latest-started claims it, if it lies
    in that attempt's window. Later-started surviving attempts reach every step later (an earlier
    one that would take the same event loses it), so "latest-started" is a running max over the
    step j − 1 events up to t, and the claimant's step j − 1 time must be > p. Each attempt claims
    at most one event per step; the actor's furthest step and the timings of the attempt that got
    there first follow from one aggregate.
    Strict: between step j and step j + 1 the actor may do nothing else — any event it did at a
    timestamp strictly between them that does not match step j breaks the attempt (repeats of
    step j are allowed and events sharing a timestamp with a step never break it). Strict funnels
    read *all* the actor's events in the range, not only the steps' events.
    Exclusions: an exclusion event of the gap after step g (PostHog: funnelFromStep < g ≤
    funnelToStep, 0-based) voids an attempt when it happens after the attempt's step g (strictly:
    at equal timestamps exclusions come first), no later than its step g + 1, and within its
    window (strict: and before anything broke the attempt). A voided attempt still counts as
    reaching one step past g when it got there (PostHog records it and then drops the actor): the
    actor's furthest step is the largest over all its attempts; if only voided attempts reach it
    the actor leaves the funnel altogether, else it counts there with the non-voided attempt that
    got there first (earliest time of reaching that step; ties: the latest start, then the larger
    uuid of the step-1 event).

    Unordered funnels (every step a different event, checked by the schema). Every step event
    anchors a window [t, t + W]; the attempt reaches as many steps as have an event in it, and the
    k-th step's time is the k-th earliest of the steps' first events in the window. An exclusion
    (unordered exclusions span the whole funnel) after the anchor and inside its window cuts the
    window there: the attempt counts only if it completed every step by then, else it is dropped.
    The actor counts at its largest number of steps, with the earliest anchor that reached it.

    Breakdown attribution (`breakdownAttributionType`): first_touch (default) / last_touch — the
    breakdown value of the actor's first / last event the funnel read (missing or empty values
    become PostHog's null label); all_events — the funnel runs separately per value, on the events
    carrying it; step — per value found on the actor's events of step `breakdownAttributionValue`,
    that step only accepting events with the value.
-#}

{#- Seconds of a funnel window unit (PostHog's DATERANGE_MAP: a month is 31 days). -#}
{% macro gw_insight_funnel_unit_seconds(unit) -%}
    {{ return({'second': 1, 'minute': 60, 'hour': 3600, 'day': 86400, 'week': 604800, 'month': 2678400}[unit]) }}
{%- endmacro %}

{#- The largest number of steps among `insights` (at least 1). -#}
{% macro gw_insight_funnel_max_steps(insights) -%}
    {%- set counts = [1] -%}
    {%- for insight in insights -%}
        {%- do counts.append(insight.series | length) -%}
    {%- endfor -%}
    {{ return(counts | max) }}
{%- endmacro %}

{#- A boolean SQL expression: the event matches a step (or exclusion) node. -#}
{% macro gw_insight_funnel_node_matches(node) -%}
    (true {{- gw_insight_event_conditions(node.event, [node.properties]) }})
{%- endmacro %}

{#- Exclusions by gap: {g: [exclusion, …]} for the gaps after steps g = 1 … n − 1 that have any. -#}
{% macro gw_insight_funnel_gaps(insight) -%}
    {%- set gaps = {} -%}
    {%- for g in range(1, insight.series | length) -%}
        {%- set found = [] -%}
        {%- for exclusion in insight.funnel.exclusions if exclusion.from_step < g and g <= exclusion.to_step -%}
            {%- do found.append(exclusion) -%}
        {%- endfor -%}
        {%- if found -%}
            {%- do gaps.update({g: found}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(gaps) }}
{%- endmacro %}

{#- For every step j ≥ 2, how many earlier steps one event could match as well (same event name,
    or either step is "all events"): the candidates an attempt may have to skip. -#}
{% macro gw_insight_funnel_overlaps(insight) -%}
    {%- set overlaps = {} -%}
    {%- for j in range(2, (insight.series | length) + 1) -%}
        {%- set step = insight.series[j - 1] -%}
        {%- set count = [] -%}
        {%- for earlier in insight.series[:j - 1] -%}
            {%- if earlier.event is none or step.event is none or earlier.event == step.event -%}
                {%- do count.append(1) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do overlaps.update({j: count | length}) -%}
    {%- endfor -%}
    {{ return(overlaps) }}
{%- endmacro %}

{#- CTEs (each followed by a comma) computing one funnel's actors; the last one is `<prefix>_final`
    with insight_id, project_id, actor_type, group_type_index, actor_id, breakdown_property_value,
    furthest_step, step_1_at … step_<max_steps>_at (null past the actor's furthest step).

    Ordered and strict funnels find each attempt's next step by equality joins on what a window
    pass precomputed for every event ("the first step-j event at this timestamp or later"), so the
    whole chain costs one sort of the funnel's events. When two steps can match the same event
    (same event name, or an "all events" step), an attempt may have to skip events it already
    used; those funnels rank the step events (a second window pass) and join on ranks instead. -#}
{% macro gw_insight_funnel_actor_ctes(insight, prefix, max_steps) -%}
    {%- set funnel = insight.funnel %}
    {%- set steps = insight.series %}
    {%- set step_count = steps | length %}
    {%- set order = funnel.order %}
    {%- set window = funnel.window_interval * gw_insight_funnel_unit_seconds(funnel.window_unit) * 1000000 %}
    {%- set by_group = insight.aggregation_group_type_index is not none %}
    {%- set actor = 'group' if by_group else 'person' %}
    {%- set group_type_index = insight.aggregation_group_type_index %}
    {%- set breakdown = insight.breakdown %}
    {%- set attribution = funnel.attribution if breakdown is not none else none %}
    {%- set gaps = gw_insight_funnel_gaps(insight) %}
    {%- set overlaps = gw_insight_funnel_overlaps(insight) %}
    {#- the funnel runs per actor, and with all_events / step attribution per actor and value;
        once numbered (`_starts`), the window pass and the joins use that number as the key #}
    {%- set keyed = attribution in ('all_events', 'step') %}
    {%- set entity_keys = ['project_id', 'actor_id'] + (['entity_value'] if keyed else []) %}
    {%- set entity_list = entity_keys | join(', ') %}
    {%- set keys = ['actor_number'] %}
    {%- set key_list = 'actor_number' %}
    {%- set touch = attribution in ('first_touch', 'last_touch') %}
    {%- set by_rank = order != 'unordered' and (overlaps.values() | select('gt', 0) | list | length) > 0 %}
    {#- ordered, no step can share an event, no exclusions: attempts by claims (one window pass per step) #}
    {%- set by_claims = order == 'ordered' and not by_rank and not gaps %}

{{ prefix }}_events as (

    -- the events the funnel reads: in the range, with an actor, passing the insight's filters
    select
        events.project_id,
        {{ gw_insight_actor(actor, group_type_index) }} as actor_id,
        {{ gw_insight_breakdown_value(breakdown) }} as breakdown_property_value,
        events.event_uuid,
        {{ gw_epoch_microseconds('events.timestamp') }} as event_us,
        {%- for step in steps %}
        {{ gw_insight_funnel_node_matches(step) }} as is_step_{{ loop.index }},
        {%- endfor %}
        {%- for g, exclusions in gaps.items() %}
        (
            {%- for exclusion in exclusions %}
            {{ gw_insight_funnel_node_matches(exclusion) }}{% if not loop.last %} or{% endif %}
            {%- endfor %}
        ) as is_excluded_after_{{ g }},
        {%- endfor %}
        insights.insight_id

    from events
    inner join insights
        on
            events.project_id = insights.project_id
            and insights.insight_id = {{ gw_insight_literal(insight.id) }}
    {{- gw_insight_event_joins(insight) }}
    where
        events.timestamp >= insights.date_from_at
        and events.timestamp <= insights.date_to_at
        and {{ gw_insight_actor(actor, group_type_index) }} is not null
        {{- gw_insight_event_conditions(none, [insight.properties], actor, group_type_index) }}

),
    {%- if attribution == 'step' %}
        {%- set attributed = funnel.attribution_step + 1 %}

{{ prefix }}_attribution_values as (

    -- step attribution: the values the actor's events of step {{ attributed }} carry
    select distinct
        project_id,
        actor_id,
        breakdown_property_value
    from {{ prefix }}_events
    where is_step_{{ attributed }}

),
    {%- endif %}

{{ prefix }}_keyed as (

    -- the funnel's own events (strict funnels: every event of the actor) and the key of the
    -- funnel they belong to: the actor, and with all_events / step attribution the value too
    select
        {{ prefix }}_events.project_id,
        {{ prefix }}_events.actor_id,
        {%- if attribution == 'all_events' %}
        {{ prefix }}_events.breakdown_property_value as entity_value,
        {%- elif attribution == 'step' %}
        attribution_values.breakdown_property_value as entity_value,
        {%- endif %}
        {{ prefix }}_events.breakdown_property_value,
        {{ prefix }}_events.event_uuid,
        {{ prefix }}_events.event_us,
        {%- for step in steps %}
        {%- if attribution == 'step' and loop.index == attributed %}
        (
            {{ prefix }}_events.is_step_{{ loop.index }}
            and {{ prefix }}_events.breakdown_property_value = attribution_values.breakdown_property_value
        ) as is_step_{{ loop.index }},
        {%- else %}
        {{ prefix }}_events.is_step_{{ loop.index }},
        {%- endif %}
        {%- endfor %}
        {%- for g in gaps %}
        {{ prefix }}_events.is_excluded_after_{{ g }},
        {%- endfor %}
        {{ prefix }}_events.insight_id

    from {{ prefix }}_events
    {%- if attribution == 'step' %}
    inner join {{ prefix }}_attribution_values as attribution_values
        on
            {{ prefix }}_events.project_id = attribution_values.project_id
            and {{ prefix }}_events.actor_id = attribution_values.actor_id
    {%- endif %}
    {%- if order != 'strict' %}
    where
        {%- for step in steps %}
        {{ prefix }}_events.is_step_{{ loop.index }}{% if not loop.last or gaps %} or{% endif %}
        {%- endfor %}
        {%- for g in gaps %}
        {{ prefix }}_events.is_excluded_after_{{ g }}{% if not loop.last %} or{% endif %}
        {%- endfor %}
    {%- endif %}

),
    {%- if touch %}

{{ prefix }}_touch as (

    -- breakdown attribution: the value on the actor's first and last event the funnel read
    select
        {{ entity_list }},
        {{ gw_arg_min('breakdown_property_value', gw_ordering_key(['event_us', 'event_uuid'])) }} as first_touch_value,
        {{ gw_arg_max('breakdown_property_value', gw_ordering_key(['event_us', 'event_uuid'])) }} as last_touch_value

    from {{ prefix }}_keyed
    group by {{ entity_list }}

),
    {%- endif %}

{{ prefix }}_starts as (

    -- the actors, numbered (an integer key sorts and joins faster than their ids){% if order != 'unordered' %}, and
    -- when their attempts can start: nothing before the first step-1 event or after the last
    -- one's window can matter{% endif %}
    select
        {{ entity_list }},
        {%- if order != 'unordered' %}
        min(event_us) as first_start_us,
        max(event_us) + {{ window }} as last_end_us,
        {%- endif %}
        row_number() over (order by {{ entity_list }}) as actor_number

    from {{ prefix }}_keyed
    {%- if order != 'unordered' %}
    where is_step_1
    {%- endif %}
    group by {{ entity_list }}

),

{{ prefix }}_bounded as (

    select
        starts.actor_number,
        keyed.event_uuid,
        keyed.event_us,
        {%- for step in steps %}
        keyed.is_step_{{ loop.index }},
        {%- endfor %}
        {%- for g in gaps %}
        keyed.is_excluded_after_{{ g }},
        {%- endfor %}
        keyed.insight_id

    from {{ prefix }}_keyed as keyed
    inner join {{ prefix }}_starts as starts
        on
            {%- for key in entity_keys %}
            {% if not loop.first %}and {% endif %}keyed.{{ key }} = starts.{{ key }}
            {%- endfor %}
            {%- if order != 'unordered' %}
            and keyed.event_us >= starts.first_start_us
            and keyed.event_us <= starts.last_end_us
            {%- endif %}

),
    {%- set scanned_source = prefix ~ '_bounded' %}
    {%- if by_rank %}

{{ prefix }}_sequenced as (

    -- steps that can share events: each step event's rank among the actor's events of that
    -- step, in (timestamp, uuid) order
    select
        {{ key_list }},
        event_uuid,
        event_us,
        {%- for step in steps %}
        is_step_{{ loop.index }},
        {%- endfor %}
        {%- for g in gaps %}
        is_excluded_after_{{ g }},
        {%- endfor %}
        {%- for j in range(2, step_count + 1) %}
        case
            when is_step_{{ j }}
                then count(case when is_step_{{ j }} then 1 end) over (
                    partition by {{ key_list }}
                    order by event_us, event_uuid
                    rows between unbounded preceding and current row
                )
        end as step_{{ j }}_rank,
        {%- endfor %}
        insight_id

    from {{ scanned_source }}

),
    {%- set scanned_source = prefix ~ '_sequenced' %}
    {%- endif %}
    {%- if by_claims %}

{{ prefix }}_layer_1 as (

    -- ordered funnel whose steps never share an event, without exclusions: every row is one step
    -- event; a step-1 event is the start of its own attempt (chain_start_us)
    select
        {{ key_list }},
        event_us,
        case
            {%- for j in range(1, step_count + 1) %}
            when is_step_{{ j }} then {{ j }}
            {%- endfor %}
        end as step_number,
        case when is_step_1 then event_us end as chain_start_us
        {%- for i in range(2, step_count + 1) %},
        cast(null as bigint) as chain_step_{{ i }}_us
        {%- endfor %}

    from {{ scanned_source }}

),
        {%- for j in range(2, step_count + 1) %}
            {%- set last = 'claim_start_us' if j == 2 else 'claim_step_' ~ (j - 1) ~ '_us' %}
            {#- claimed: a claimant's step {{ j - 1 }} after the previous step-j event, inside its window #}
            {%- set is_claimed = '(' ~ last ~ ' > coalesce(previous_step_us, ' ~ last ~ ' - 1) and event_us <= claim_start_us + ' ~ window ~ ')' %}

{{ prefix }}_claims_{{ j }} as (

    -- step {{ j }}: the attempts whose step {{ j - 1 }} lies after the previous step-{{ j }} event and not
    -- after this one would all take this event; the latest-started takes it (its chain is the
    -- largest: later attempts reach every step later), the others stop. Rows, not ranges: at
    -- equal times step {{ j - 1 }} sorts first (a step {{ j }} may follow it at its own time), and of
    -- several step-{{ j }} events at one time the first is claimed (the others would get the same chain)
    select
        {{ key_list }},
        event_us,
        step_number,
        chain_start_us,
        {%- for i in range(2, step_count + 1) %}
        chain_step_{{ i }}_us,
        {%- endfor %}
        max(case when step_number = {{ j - 1 }} then chain_start_us end) over (
            partition by {{ key_list }}
            order by event_us, step_number
            rows between unbounded preceding and current row
        ) as claim_start_us,
        {%- for i in range(2, j) %}
        max(case when step_number = {{ j - 1 }} then chain_step_{{ i }}_us end) over (
            partition by {{ key_list }}
            order by event_us, step_number
            rows between unbounded preceding and current row
        ) as claim_step_{{ i }}_us,
        {%- endfor %}
        max(case when step_number = {{ j }} then event_us end) over (
            partition by {{ key_list }}
            order by event_us, step_number
            rows between unbounded preceding and 1 preceding
        ) as previous_step_us

    from {{ prefix }}_layer_{{ j - 1 }}
    where step_number >= {{ j - 1 }}

),

{{ prefix }}_layer_{{ j }} as (

    select
        {{ key_list }},
        event_us,
        step_number,
        case
            when step_number = {{ j }} and {{ is_claimed }} then claim_start_us
            when step_number <> {{ j }} then chain_start_us
        end as chain_start_us,
        {%- for i in range(2, step_count + 1) %}
        {%- if i < j %}
        case when step_number = {{ j }} and {{ is_claimed }} then claim_step_{{ i }}_us end as chain_step_{{ i }}_us
        {%- elif i == j %}
        case when step_number = {{ j }} and {{ is_claimed }} then event_us end as chain_step_{{ i }}_us
        {%- else %}
        chain_step_{{ i }}_us
        {%- endif %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ prefix }}_claims_{{ j }}

),
        {%- endfor %}

{{ prefix }}_reached as (

    -- every step an attempt reached, with that attempt's times (step 1: the first start)
    select
        {{ key_list }},
        1 as step_number,
        first_start_us as event_us,
        first_start_us as chain_start_us
        {%- for i in range(2, step_count + 1) %},
        cast(null as bigint) as chain_step_{{ i }}_us
        {%- endfor %}
    from {{ prefix }}_starts
    {%- for j in range(2, step_count + 1) %}

    union all

    select
        {{ key_list }},
        step_number,
        event_us,
        chain_start_us
        {%- for i in range(2, step_count + 1) %},
        chain_step_{{ i }}_us
        {%- endfor %}
    from {{ prefix }}_layer_{{ j }}
    where step_number = {{ j }} and chain_start_us is not null
    {%- endfor %}

),

{{ prefix }}_best as (

    -- the furthest step, with the times of the attempt that reached it first
    select
        {{ key_list }},
        max(step_number) as furthest_step,
        {%- set first = gw_ordering_key(['-step_number', 'event_us']) %}
        {{ gw_timestamp_from_epoch_microseconds(gw_arg_min('chain_start_us', first)) }} as step_1_at,
        {%- for j in range(2, step_count + 1) %}
        {{ gw_timestamp_from_epoch_microseconds(gw_arg_min('chain_step_' ~ j ~ '_us', first)) }} as step_{{ j }}_at
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ prefix }}_reached
    group by {{ key_list }}

),
    {%- else %}


{{ prefix }}_scanned as (

    -- the window pass, by timestamp (peers = the same microsecond): what follows each event
    select
        {{ key_list }},
        {%- if by_rank %}
        event_uuid,
        {%- endif %}
        event_us,
        {%- for step in steps %}
        is_step_{{ loop.index }},
        {%- endfor %}
        {%- if order != 'unordered' %}
        {%- for j in range(2, step_count + 1) %}
        {%- if by_rank %}
        step_{{ j }}_rank,
        -- the rank of the first step-{{ j }} event at this timestamp or later
        min(step_{{ j }}_rank) over (
            partition by {{ key_list }}
            order by event_us
            range between current row and unbounded following
        ) as next_step_{{ j }},
        {%- else %}
        -- the time of the first step-{{ j }} event at this timestamp or later
        min(case when is_step_{{ j }} then event_us end) over (
            partition by {{ key_list }}
            order by event_us
            range between current row and unbounded following
        ) as next_step_{{ j }},
        {%- endif %}
        {%- endfor %}
        {%- if order == 'strict' %}
        {%- for j in range(1, step_count) %}
        -- strict: the first later event that is not step {{ j }} (it breaks an attempt at step {{ j }})
        min(case when not is_step_{{ j }} then event_us end) over (
            partition by {{ key_list }}
            order by event_us
            range between 1 following and unbounded following
        ) as next_break_after_step_{{ j }}_us,
        {%- endfor %}
        {%- endif %}
        {%- for g in gaps %}
        -- the first exclusion of the gap after step {{ g }}, strictly later
        min(case when is_excluded_after_{{ g }} then event_us end) over (
            partition by {{ key_list }}
            order by event_us
            range between 1 following and unbounded following
        ) as next_exclusion_after_{{ g }}_us,
        {%- endfor %}
        {%- else %}
        {%- for j in range(1, step_count + 1) %}
        -- the first step-{{ j }} event at this timestamp or later
        min(case when is_step_{{ j }} then event_us end) over (
            partition by {{ key_list }}
            order by event_us
            range between current row and unbounded following
        ) as next_step_{{ j }}_us,
        {%- endfor %}
        {%- if gaps %}
        -- the first exclusion strictly later (unordered exclusions span the whole funnel)
        min(
            case when {% for g in gaps %}is_excluded_after_{{ g }}{% if not loop.last %} or {% endif %}{% endfor %} then event_us end
        ) over (
            partition by {{ key_list }}
            order by event_us
            range between 1 following and unbounded following
        ) as next_exclusion_us,
        {%- endif %}
        {%- endif %}
        insight_id

    from {{ scanned_source }}

),

    {%- if order != 'unordered' %}
        {#- columns every attempt carries from step to step #}
        {%- set carried = keys + (['step_1_uuid'] if by_rank else []) + ['step_1_us'] %}
        {%- if 1 in gaps %}{% do carried.append('next_exclusion_after_1_us') %}{% endif %}
        {%- if order == 'strict' and step_count > 1 %}{% do carried.append('step_1_break_us') %}{% endif %}

{{ prefix }}_reached_1 as (

    -- every step-1 event starts an attempt{% if not by_rank %} (those at the same microsecond are one: they
    -- would take the same events){% endif %}
    select {% if not by_rank %}distinct{% endif %}
        {{ key_list }},
        {%- if by_rank %}
        event_uuid as step_1_uuid,
        {%- endif %}
        event_us as step_1_us,
        {%- if 1 in gaps %}
        next_exclusion_after_1_us,
        {%- endif %}
        {%- if order == 'strict' and step_count > 1 %}
        next_break_after_step_1_us as step_1_break_us,
        {%- endif %}
        next_step_2 as next_step

    from {{ prefix }}_scanned
    where is_step_1

),

        {%- for j in range(2, step_count + 1) %}
            {%- set overlap = overlaps[j] %}
            {#- what a step-j event brings along #}
            {%- set brought = ['us'] + (['uuid'] if by_rank else []) %}
            {%- if j in gaps %}{% do brought.append('exclusion') %}{% endif %}
            {%- if order == 'strict' and j < step_count %}{% do brought.append('break') %}{% endif %}
            {%- set claimed_by = 'proposed_uuid' if by_rank else 'proposed_us' %}

{{ prefix }}_proposed_{{ j }} as (

    -- step {{ j }}: the first step-{{ j }} event from the previous step's timestamp on
    {%- if overlap > 0 %} that the attempt has not used (the first {{ overlap + 1 }} candidates suffice){% endif %},
    -- inside the window{% if order == 'strict' %}, with nothing else in between{% endif %}
    select {% if not by_rank %}distinct{% endif %}
        {%- for column in carried %}
        attempts.{{ column }},
        {%- endfor %}
        step_events.event_us as proposed_us,
        {%- if by_rank %}
        step_events.event_uuid as proposed_uuid,
        step_events.step_{{ j }}_rank as proposed_rank,
        {%- endif %}
        {%- if j in gaps %}
        step_events.next_exclusion_after_{{ j }}_us as proposed_exclusion,
        {%- endif %}
        {%- if order == 'strict' and j < step_count %}
        step_events.next_break_after_step_{{ j }}_us as proposed_break,
        {%- endif %}
        {%- if j < step_count %}
        step_events.next_step_{{ j + 1 }} as proposed_next_step
        {%- else %}
        cast(null as bigint) as proposed_next_step
        {%- endif %}

    from {{ prefix }}_reached_{{ j - 1 }} as attempts
    {%- if overlap > 0 %}
    cross join {{ gw_integer_series(0, overlap) }} as skipped
    {%- endif %}
    left join {{ prefix }}_scanned as step_events
        on
            attempts.actor_number = step_events.actor_number
            and step_events.is_step_{{ j }}
            {%- if not by_rank %}
            and step_events.event_us = attempts.next_step
            {%- elif overlap > 0 %}
            and step_events.step_{{ j }}_rank = attempts.next_step + skipped.n
            {%- for i in range(1, j) %}
            and step_events.event_uuid <> attempts.step_{{ i }}_uuid
            {%- endfor %}
            {%- else %}
            and step_events.step_{{ j }}_rank = attempts.next_step
            {%- endif %}
            and step_events.event_us <= attempts.step_1_us + {{ window }}
            {%- if order == 'strict' %}
            and (attempts.step_{{ j - 1 }}_break_us is null or step_events.event_us <= attempts.step_{{ j - 1 }}_break_us)
            {%- endif %}

),
            {%- set proposals = prefix ~ '_proposed_' ~ j %}
            {%- if overlap > 0 %}

{{ prefix }}_numbered_{{ j }} as (

    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for item in brought %}
        proposed_{{ item }},
        {%- endfor %}
        proposed_next_step,
        row_number() over (
            partition by {{ key_list }}, step_1_uuid
            order by proposed_rank nulls last
        ) as proposal_number

    from {{ proposals }}

),

{{ prefix }}_first_proposed_{{ j }} as (

    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for item in brought %}
        proposed_{{ item }},
        {%- endfor %}
        proposed_next_step

    from {{ prefix }}_numbered_{{ j }}
    where proposal_number = 1

),
                {%- set proposals = prefix ~ '_first_proposed_' ~ j %}
            {%- endif %}

{{ prefix }}_claims_{{ j }} as (

    -- an event that several attempts would take goes to the latest-started one; the others stop
    -- here (PostHog's UDF keeps one attempt per step: the latest to reach it)
    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for item in brought %}
        proposed_{{ item }},
        {%- endfor %}
        proposed_next_step,
        row_number() over (
            partition by {{ key_list }}, {{ claimed_by }}
            order by step_1_us desc{% if by_rank %}, step_1_uuid desc{% endif %}
        ) as claim_number

    from {{ proposals }}

),

{{ prefix }}_reached_{{ j }} as (

    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        case when claim_number = 1 then proposed_us end as step_{{ j }}_us,
        {%- if by_rank %}
        case when claim_number = 1 then proposed_uuid end as step_{{ j }}_uuid,
        {%- endif %}
        {%- if j in gaps %}
        case when claim_number = 1 then proposed_exclusion end as next_exclusion_after_{{ j }}_us,
        {%- endif %}
        {%- if order == 'strict' and j < step_count %}
        case when claim_number = 1 then proposed_break end as step_{{ j }}_break_us,
        {%- endif %}
        case when claim_number = 1 then proposed_next_step end as next_step

    from {{ prefix }}_claims_{{ j }}

),
            {%- do carried.append('step_' ~ j ~ '_us') %}
            {%- if by_rank %}{% do carried.append('step_' ~ j ~ '_uuid') %}{% endif %}
            {%- if j in gaps %}{% do carried.append('next_exclusion_after_' ~ j ~ '_us') %}{% endif %}
            {%- if order == 'strict' and j < step_count %}{% do carried.append('step_' ~ j ~ '_break_us') %}{% endif %}
        {%- endfor %}

{{ prefix }}_attempts as (

    -- each attempt: how far it got, and the first gap whose exclusion voided it (strict: only
    -- while the attempt was still alive — nothing but repeats of step g before the exclusion)
    select
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        case
            {%- for j in range(step_count, 1, -1) %}
            when step_{{ j }}_us is not null then {{ j }}
            {%- endfor %}
            else 1
        end as furthest_step,
        case
            {%- for j in range(step_count, 1, -1) %}
            when step_{{ j }}_us is not null then step_{{ j }}_us
            {%- endfor %}
            else step_1_us
        end as furthest_step_us,
        {%- if gaps %}
        case
            {%- for g in gaps %}
            when
                step_{{ g }}_us is not null
                and next_exclusion_after_{{ g }}_us <= step_1_us + {{ window }}
                and (step_{{ g + 1 }}_us is null or next_exclusion_after_{{ g }}_us <= step_{{ g + 1 }}_us)
                {%- if order == 'strict' %}
                and (step_{{ g }}_break_us is null or next_exclusion_after_{{ g }}_us <= step_{{ g }}_break_us)
                {%- endif %}
                then {{ g }}
            {%- endfor %}
        end as voided_after_step
        {%- else %}
        cast(null as integer) as voided_after_step
        {%- endif %}

    from {{ prefix }}_reached_{{ step_count }}

),

{{ prefix }}_recorded as (

    -- a voided attempt is still recorded one step past its exclusion (PostHog drops the actor
    -- when such an attempt is its furthest)
    select
        {{ key_list }},
        max(
            case
                when voided_after_step is null then furthest_step
                else least(furthest_step, voided_after_step + 1)
            end
        ) as recorded_step

    from {{ prefix }}_attempts
    group by {{ key_list }}

),

{{ prefix }}_credited as (

    -- the non-voided attempt that reached the furthest step first
    select
        {%- for column in carried %}
        attempts.{{ column }},
        {%- endfor %}
        attempts.furthest_step,
        row_number() over (
            partition by {% for key in keys %}attempts.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
            order by
                attempts.furthest_step_us,
                attempts.step_1_us desc{% if by_rank %},
                attempts.step_1_uuid desc{% endif %}
        ) as attempt_number

    from {{ prefix }}_attempts as attempts
    inner join {{ prefix }}_recorded as recorded
        on
            attempts.actor_number = recorded.actor_number
            and attempts.furthest_step = recorded.recorded_step
    where attempts.voided_after_step is null

),

{{ prefix }}_best as (

    select
        {{ key_list }},
        furthest_step,
        {%- for j in range(1, step_count + 1) %}
        {{ gw_timestamp_from_epoch_microseconds('step_' ~ j ~ '_us') }} as step_{{ j }}_at{% if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ prefix }}_credited
    where attempt_number = 1

),
    {%- else %}

{{ prefix }}_anchors as (

    -- unordered: every step event anchors a window (those at the same microsecond are one); an
    -- exclusion inside it cuts it short
    select distinct
        {{ key_list }},
        event_us as anchor_us,
        {%- for j in range(1, step_count + 1) %}
        next_step_{{ j }}_us,
        {%- endfor %}
        {%- if gaps %}
        coalesce(next_exclusion_us <= event_us + {{ window }}, false) as is_cut,
        case
            when next_exclusion_us <= event_us + {{ window }} then next_exclusion_us
            else event_us + {{ window }}
        end as window_end_us
        {%- else %}
        false as is_cut,
        event_us + {{ window }} as window_end_us
        {%- endif %}

    from {{ prefix }}_scanned
    where
        {%- for j in range(1, step_count + 1) %}
        is_step_{{ j }}{% if not loop.last %} or{% endif %}
        {%- endfor %}

),

{{ prefix }}_windows as (

    select
        {{ key_list }},
        anchor_us,
        window_end_us,
        is_cut,
        {%- for j in range(1, step_count + 1) %}
        next_step_{{ j }}_us,
        {%- endfor %}
        {%- for j in range(1, step_count + 1) %}
        case when next_step_{{ j }}_us <= window_end_us then 1 else 0 end{% if not loop.last %} +{% endif %}
        {%- endfor %} as completed_steps

    from {{ prefix }}_anchors

),

{{ prefix }}_credited as (

    -- the earliest window with the most steps (a cut window counts only when complete)
    select
        {{ key_list }},
        window_end_us,
        {%- for j in range(1, step_count + 1) %}
        next_step_{{ j }}_us,
        {%- endfor %}
        completed_steps,
        row_number() over (
            partition by {{ key_list }}
            order by completed_steps desc, anchor_us
        ) as window_number

    from {{ prefix }}_windows
    where not is_cut or completed_steps = {{ step_count }}

),

{{ prefix }}_completions as (

    -- the credited window's steps in the order they were completed
    {%- for j in range(1, step_count + 1) %}
    select
        {{ key_list }},
        next_step_{{ j }}_us as completed_us
    from {{ prefix }}_credited
    where window_number = 1 and next_step_{{ j }}_us <= window_end_us
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{{ prefix }}_completion_order as (

    select
        {{ key_list }},
        completed_us,
        row_number() over (
            partition by {{ key_list }}
            order by completed_us
        ) as completion_number

    from {{ prefix }}_completions

),

{{ prefix }}_completion_times as (

    select
        {{ key_list }},
        {%- for j in range(1, step_count + 1) %}
        max(case when completion_number = {{ j }} then completed_us end) as step_{{ j }}_us{% if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ prefix }}_completion_order
    group by {{ key_list }}

),

{{ prefix }}_best as (

    select
        {%- for key in keys %}
        credited.{{ key }},
        {%- endfor %}
        credited.completed_steps as furthest_step,
        {%- for j in range(1, step_count + 1) %}
        {{ gw_timestamp_from_epoch_microseconds('completion_times.step_' ~ j ~ '_us') }} as step_{{ j }}_at
        {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from {{ prefix }}_credited as credited
    inner join {{ prefix }}_completion_times as completion_times
        on
            credited.actor_number = completion_times.actor_number
    where credited.window_number = 1

),
    {%- endif %}
    {%- endif %}

{{ prefix }}_final as (

    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        actors.project_id,
        {{ gw_insight_literal(actor) }} as actor_type,
        {{ group_type_index if by_group else 'cast(null as integer)' }} as group_type_index,
        actors.actor_id,
        {%- if attribution in ('all_events', 'step') %}
        actors.entity_value as breakdown_property_value,
        {%- elif attribution == 'first_touch' %}
        touch.first_touch_value as breakdown_property_value,
        {%- elif attribution == 'last_touch' %}
        touch.last_touch_value as breakdown_property_value,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as breakdown_property_value,
        {%- endif %}
        best.furthest_step,
        {%- for j in range(1, max_steps + 1) %}
        {%- if j <= step_count %}
        best.step_{{ j }}_at{% if not loop.last %},{% endif %}
        {%- else %}
        cast(null as timestamp) as step_{{ j }}_at{% if not loop.last %},{% endif %}
        {%- endif %}
        {%- endfor %}

    from {{ prefix }}_best as best
    inner join {{ prefix }}_starts as actors
        on best.actor_number = actors.actor_number
    {%- if touch %}
    inner join {{ prefix }}_touch as touch
        on
            {%- for key in entity_keys %}
            {% if not loop.first %}and {% endif %}actors.{{ key }} = touch.{{ key }}
            {%- endfor %}
    {%- endif %}

),
{%- endmacro %}

{#- A `select … union all …` of the steps of the funnels in `insights` (one row per step), for a
    CTE: insight_id, step_number (1-based), step_name, step_event, step_custom_name. Unordered
    funnels count completed steps, so their steps are named "Completed N step(s)" as in PostHog. -#}
{% macro gw_insight_funnel_step_rows(insights) -%}
    {%- set rows = [] -%}
    {%- for insight in insights -%}
        {%- for series in insight.series -%}
            {%- do rows.append((insight, series)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for insight, series in rows %}
        {%- set number = series.index + 1 %}
        {%- if insight.funnel.order == 'unordered' %}
            {%- set name = 'Completed ' ~ number ~ ' step' ~ ('s' if number > 1 else '') %}
            {%- set event = none %}
        {%- else %}
            {%- set name = series.label %}
            {%- set event = series.event %}
        {%- endif %}
    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        {{ number }} as step_number,
        {{ gw_insight_literal(name) }} as step_name,
        {{ gw_insight_literal(event) }} as step_event,
        {{ gw_insight_literal(series.custom_name if insight.funnel.order != 'unordered' else none) }} as step_custom_name
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
    {%- if not rows %}
    select
        cast(null as {{ dbt.type_string() }}) as insight_id,
        cast(null as integer) as step_number,
        cast(null as {{ dbt.type_string() }}) as step_name,
        cast(null as {{ dbt.type_string() }}) as step_event,
        cast(null as {{ dbt.type_string() }}) as step_custom_name
    where false
    {%- endif %}
{%- endmacro %}

{#- A `select … union all …` with one row per funnel in `insights`, for a CTE: insight_id,
    step_count, funnel_order_type, actor_type, group_type_index, window_seconds, has_breakdown,
    breakdown_limit, hides_other. -#}
{% macro gw_insight_funnel_rows(insights) -%}
    {%- for insight in insights %}
        {%- set funnel = insight.funnel %}
        {%- set by_group = insight.aggregation_group_type_index is not none %}
    select
        {{ gw_insight_literal(insight.id) }} as insight_id,
        {{ insight.series | length }} as step_count,
        {{ gw_insight_literal(funnel.order) }} as funnel_order_type,
        {{ gw_insight_literal('group' if by_group else 'person') }} as actor_type,
        {{ insight.aggregation_group_type_index if by_group else 'cast(null as integer)' }} as group_type_index,
        {{ funnel.window_interval * gw_insight_funnel_unit_seconds(funnel.window_unit) }} as window_seconds,
        {{ 'true' if insight.breakdown is not none else 'false' }} as has_breakdown,
        {{ insight.breakdown.limit if insight.breakdown is not none else 'cast(null as integer)' }} as breakdown_limit,
        {{ 'true' if insight.breakdown is not none and insight.breakdown.hide_other else 'false' }} as hides_other
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
    {%- if not insights %}
    select
        cast(null as {{ dbt.type_string() }}) as insight_id,
        cast(null as integer) as step_count,
        cast(null as {{ dbt.type_string() }}) as funnel_order_type,
        cast(null as {{ dbt.type_string() }}) as actor_type,
        cast(null as integer) as group_type_index,
        cast(null as bigint) as window_seconds,
        false as has_breakdown,
        cast(null as integer) as breakdown_limit,
        false as hides_other
    where false
    {%- endif %}
{%- endmacro %}

{#- The timestamps of steps 1 … furthest_step as an array, from columns <relation>.step_<j>_at. -#}
{% macro gw_insight_funnel_step_timestamps(relation, max_steps) -%}
    case {{ relation }}.furthest_step
        {%- for j in range(1, max_steps + 1) %}
            {%- set items = [] %}
            {%- for i in range(1, j + 1) %}
                {%- do items.append(relation ~ '.step_' ~ i ~ '_at') %}
            {%- endfor %}
        when {{ j }} then {{ gw_array(items) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- The timestamp of the furthest step, from columns <relation>.step_<j>_at. -#}
{% macro gw_insight_funnel_furthest_timestamp(relation, max_steps) -%}
    case {{ relation }}.furthest_step
        {%- for j in range(1, max_steps + 1) %}
        when {{ j }} then {{ relation }}.step_{{ j }}_at
        {%- endfor %}
    end
{%- endmacro %}
