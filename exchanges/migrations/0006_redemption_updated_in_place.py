"""A booking's capture and refunds update its row in place (HOT): no index names the status any more (a membership's
active holds are found through its membership index), and each page of bookings and tickets keeps room for the
new versions of its rows. A refund then writes no entry into the booking's seven indexes. The fillfactor applies
to pages written from now on."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0005_redemption_refund_count")]

    operations = [
        migrations.RemoveIndex(model_name="redemption", name="redemption_active_holds"),
        migrations.RunSQL(
            "ALTER TABLE exchanges_redemption SET (fillfactor = 80);"
            " ALTER TABLE exchanges_redemptionticket SET (fillfactor = 80)",
            "ALTER TABLE exchanges_redemption RESET (fillfactor); ALTER TABLE exchanges_redemptionticket RESET (fillfactor)",
        ),
    ]
