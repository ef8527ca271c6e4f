-- The day the warehouse describes: the latest extract date in staging (staging already honours the
-- as_of_date var), or the as_of_date var itself when that is earlier, and the latest week (Monday to
-- Sunday) that is complete by then. The packs report on that week by default, so a pack rebuilt later
-- from the same extracts shows the same week.
with

extract_dates as (

    {% for model in [
        'stg_crm__reps', 'stg_crm__customers', 'stg_crm__leads', 'stg_crm__opportunities',
        'stg_crm__opportunity_stage_history', 'stg_crm__activities', 'stg_crm__targets',
        'stg_crm__feedback', 'stg_erp__products', 'stg_erp__sales_orders', 'stg_erp__invoices',
        'stg_erp__payments', 'stg_erp__collection_plan'
    ] %}
    select max(_extract_date) as extract_date from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

as_of as (

    -- never later than the as-of date asked for: rows of a first load of history (deliver --initial) count
    -- from their own dates before that delivery's extract date (macros/staging/current_extract_rows.sql)
    select
        {% if var('as_of_date') is none -%}
        max(extract_date)
        {%- else -%}
        least(max(extract_date), cast('{{ var("as_of_date") }}' as date))
        {%- endif %} as as_of_date
    from extract_dates

),

final as (

    select
        as_of_date,
        -- a week is complete once its Sunday has been delivered
        cast(date_trunc('week', as_of_date + 1) - interval 7 day as date) as latest_complete_week_start_date
    from as_of

)

select * from final
