"""A redemption counts its refunds: the next refund's number without counting its operations each time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exchanges', '0004_configuration_history'),
    ]

    operations = [
        migrations.AddField(
            model_name='redemption',
            name='refund_count',
            field=models.PositiveIntegerField(default=0, help_text="Refunds made so far: the next one's number (its activity's reference)."),
        ),
        migrations.RunSQL(
            """UPDATE exchanges_redemption r SET refund_count = n.refunds
               FROM (SELECT redemption_id, count(*) AS refunds FROM exchanges_pointsoperation
                     WHERE kind = 'refund' GROUP BY redemption_id) n
               WHERE n.redemption_id = r.id""",
            migrations.RunSQL.noop,
        ),
    ]
