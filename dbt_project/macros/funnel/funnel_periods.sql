{#-
    The funnel marts report every measure per period grain (var funnel_period_grains: week, month,
    quarter). funnel_period_grains_relation() is a one-column relation of those grains, to cross join;
    then date_trunc(period_grain, <date>) is the period's first day.
-#}
{% macro funnel_period_grains_relation() -%}
    (
        select period_grain
        from (values
            {%- for grain in var('funnel_period_grains') %} ('{{ grain }}'){% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as grains (period_grain)
    )
{%- endmacro %}


{#- The last day of the period that starts on period_start (week, month or quarter). -#}
{% macro funnel_period_end(period_grain, period_start) -%}
    cast(
        case {{ period_grain }}
            when 'week' then {{ period_start }} + interval 7 day
            when 'month' then {{ period_start }} + interval 1 month
            when 'quarter' then {{ period_start }} + interval 3 month
            when 'year' then {{ period_start }} + interval 1 year
        end - interval 1 day
        as date
    )
{%- endmacro %}
